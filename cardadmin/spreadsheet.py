"""What every spreadsheet the tool writes shares, the one home for it: formula neutralisation of text cells
(CSV rows through ``csv_row``, XLSX through ``write_xlsx``), and XLSX written in constant memory (xlsxwriter
streams each row to disk as it is written)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

# ASCII starts and their fullwidth forms (some spreadsheets fold those to ASCII before parsing).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PROGRESS_EVERY = 5000


def neutralise(text: str) -> str:
    """A leading = + - @ (or tab/CR) would make a spreadsheet run the cell as a formula: prefix an apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_row(cells: Iterable[Any]) -> list[Any]:
    """A row for a csv writer: text neutralised, numbers (and None) as they are."""
    return [neutralise(c) if isinstance(c, str) else c for c in cells]


def write_xlsx(path: str, sheets: list[tuple[str, list[str], Iterable[list[Any]]]],
               progress: Callable[[int], None] | None = None) -> None:
    """Write named sheets of rows. Text is always written as text (never as a formula or a link), numbers as
    numbers; Decimal money becomes a number."""
    import xlsxwriter

    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False, "tmpdir": tempfile.gettempdir()})
    bold = book.add_format({"bold": True})
    for title, header, body in sheets:
        sheet = book.add_worksheet(title[:31])
        sheet.write_row(0, 0, header, bold)
        for r, row in enumerate(body, start=1):
            for c, value in enumerate(row):
                if isinstance(value, Decimal):
                    sheet.write_number(r, c, float(value))
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, "" if value is None else neutralise(str(value)))
            if progress and r % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
    book.close()


def xlsx_tempfile(sheets: list[tuple[str, list[str], Iterable[list[Any]]]],
                  progress: Callable[[int], None] | None = None) -> IO[bytes]:
    """The workbook in a temporary file (deleted when closed), rewound for streaming to a response."""
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the caller streams and closes it)
    write_xlsx(handle.name, sheets, progress)
    handle.seek(0)
    return handle


def stream_file(handle: IO[bytes], chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while data := handle.read(chunk):
            yield data
    finally:
        handle.close()
