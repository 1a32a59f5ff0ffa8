"""Streaming readers and writers for HSA files: CSV and LDIF, UTF-8 or Latin-1 (detected or chosen).

Readers take a binary file object and yield one ``Row`` at a time (its first line number, the record or the
reason it is unusable), reading line by line with a bounded line length, so memory stays flat whatever the file
size. Problems that end the whole file (empty file, an over-long line, a bad header) raise ``FileProblem``."""

from __future__ import annotations

import base64
import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from cardadmin.hsa.records import CSV_COLUMNS, MULTI_SEPARATOR, Record, RecordError, from_attributes
from cardadmin.spreadsheet import csv_row

MAX_LINE_BYTES = 64 * 1024
MAX_ENTRY_BYTES = 256 * 1024
SAMPLE_BYTES = 64 * 1024
ENCODINGS = {"utf-8": "UTF-8", "latin-1": "Latin-1"}
FORMATS = ("csv", "ldif")


class FileProblem(ValueError):
    """The file as a whole cannot be read (message in Swedish, names the line where there is one)."""


@dataclass
class Row:
    line: int
    record: Record | None = None
    error: str | None = None


def detect_encoding(sample: bytes) -> str:
    """UTF-8 if the sample decodes as UTF-8 (a character cut at the sample's end is fine), else Latin-1."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def detect_format(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".ldif") or lower.endswith(".ldf"):
        return "ldif"
    if lower.endswith(".csv") or lower.endswith(".txt"):
        return "csv"
    raise FileProblem("Ange format (CSV eller LDIF): det går inte att avgöra av filnamnet.")


class LineReader:
    """Decoded lines with their numbers; ``bytes_read`` for progress bars."""

    def __init__(self, handle: IO[bytes], encoding: str | None, on_bytes: Callable[[int], None] | None = None):
        self.handle = handle
        sample = handle.read(SAMPLE_BYTES)  # replayed before the rest, so nothing is read twice
        self._pending = sample
        if not sample:
            raise FileProblem("Filen är tom (0 byte).")
        if encoding is not None and encoding not in ENCODINGS:
            raise FileProblem(f"Okänd teckenkodning {encoding!r}; välj utf-8 eller latin-1.")
        self.encoding = encoding or detect_encoding(sample)
        self.detected = encoding is None
        self.on_bytes = on_bytes
        self.bytes_read = 0
        self.line = 0

    def _raw_lines(self) -> Iterator[bytes]:
        """Lines ending in LF, CRLF or a bare CR (old Mac Excel writes CR alone), each with its ending."""
        buffer = io.BufferedReader(_Prefixed(self._pending, self.handle), buffer_size=MAX_LINE_BYTES)
        pending = b""
        while True:
            chunk = buffer.read(MAX_LINE_BYTES)
            data = pending + chunk
            start = 0
            while True:
                cr, lf = data.find(b"\r", start), data.find(b"\n", start)
                if cr < 0 and lf < 0:
                    break
                end = lf if cr < 0 or 0 <= lf < cr else cr
                if end == cr and end + 1 == len(data) and chunk:
                    break  # a CR at the chunk's end: an LF may follow in the next chunk
                if end == cr and data[end + 1:end + 2] == b"\n":
                    end += 1
                yield data[start:end + 1]
                start = end + 1
            pending = data[start:]
            if len(pending) > MAX_LINE_BYTES:
                raise FileProblem(f"Rad {self.line + 1} är längre än {MAX_LINE_BYTES // 1024} KiB; "
                                  f"filen är inte en HSA-fil i CSV- eller LDIF-format.")
            if not chunk:
                if pending:
                    yield pending
                return

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for raw in self._raw_lines():
            self.line += 1
            self.bytes_read += len(raw)
            if self.on_bytes:
                self.on_bytes(len(raw))
            if self.line == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                how = "kändes av som" if self.detected else "valdes som"
                raise FileProblem(f"Rad {self.line} är inte giltig {ENCODINGS[self.encoding]} (kodningen {how} "
                                  f"{ENCODINGS[self.encoding]}); välj Latin-1 om filen kommer från ett äldre "
                                  f"system.") from None
            yield self.line, text.rstrip("\r\n")


class _Prefixed(io.RawIOBase):
    """A raw stream that replays bytes already read before the rest of the file."""

    def __init__(self, prefix: bytes, handle: IO[bytes]) -> None:
        self.prefix, self.handle = prefix, handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.prefix:
            n = min(len(buffer), len(self.prefix))
            buffer[:n], self.prefix = self.prefix[:n], self.prefix[n:]
            return n
        data = self.handle.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


# ---------------------------------------------------------------- CSV


def read_csv(lines: LineReader) -> Iterator[Row]:
    numbered = iter(lines)
    first = next(numbered, None)
    if first is None:
        raise FileProblem("Filen är tom.")
    header_text = first[1]
    delimiter = ";" if header_text.count(";") > header_text.count(",") else ","
    try:
        header = [h.strip() for h in next(csv.reader([header_text], delimiter=delimiter, strict=True))]
    except csv.Error as exc:
        raise FileProblem(f"Rad 1: rubrikraden kan inte tolkas som CSV ({exc}).") from None
    known = {c.lower(): c for c in CSV_COLUMNS}
    unknown = [h for h in header if h.lower() not in known]
    if unknown:
        raise FileProblem(f"Rad 1: okända kolumner {', '.join(unknown)}. Tillåtna: {', '.join(CSV_COLUMNS)}.")
    for required in ("objectClass", "hsaIdentity"):
        if required.lower() not in {h.lower() for h in header}:
            raise FileProblem(f"Rad 1: kolumnen {required} saknas.")
    line_of = {"n": 1}

    def texts() -> Iterator[str]:
        for number, text in numbered:
            line_of["n"] = number
            yield text

    reader = csv.reader(texts(), delimiter=delimiter, strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(line_of["n"], error=f"Raden kan inte tolkas som CSV ({exc}).")
            continue
        line = line_of["n"]
        if not cells or not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield Row(line, error=f"Raden har {len(cells)} fält men rubrikraden {len(header)}.")
            continue
        attrs = {name: [cell] for name, cell in zip(header, cells, strict=True)}
        yield _row(line, attrs)


def _row(line: int, attrs: dict[str, list[str]], parent_hsa_id: str | None = None) -> Row:
    try:
        record = from_attributes(attrs, parent_hsa_id=parent_hsa_id)
    except RecordError as exc:
        return Row(line, error=str(exc))
    if record is None:
        return Row(line, error="objectClass ska vara hsaPerson eller hsaUnit.")
    return Row(line, record)


def write_csv(records: Iterable[Record]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        attrs = record.attributes()
        writer.writerow(csv_row(MULTI_SEPARATOR.join(attrs.get(c, [])) for c in CSV_COLUMNS))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


# ---------------------------------------------------------------- LDIF (RFC 2849 content records)


def _ldif_entries(lines: LineReader) -> Iterator[tuple[int, list[tuple[str, str]] | str]]:
    """(first line, [(attribute, value)]) per entry, or (line, error message) for an unusable entry."""
    entry: list[tuple[str, str]] = []
    start, size, error = 0, 0, None
    current: str | None = None

    def finish() -> Iterator[tuple[int, list[tuple[str, str]] | str]]:
        if error:
            yield start, error
        elif entry:
            yield start, entry

    def parse(logical: str) -> tuple[str, str] | str:
        name, sep, rest = logical.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            return f"Raden saknar 'attribut: värde' ({logical[:40]!r})."
        if rest.startswith(":"):
            try:
                return name.strip(), base64.b64decode(rest[1:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return f"{name.strip()}:: är inte giltig base64 med UTF-8-text."
        if rest.startswith("<"):
            return f"{name.strip()}:< (värde från URL) stöds inte."
        return name.strip(), rest.lstrip(" ")

    def take(logical: str) -> None:
        nonlocal error
        parsed = parse(logical)
        if isinstance(parsed, str):
            error = error or parsed
        elif parsed[0].lower() == "changetype":
            error = error or "Ändringsposter (changetype) stöds inte; bara innehållsposter."
        else:
            entry.append(parsed)

    for number, text in lines:
        if text.startswith(" ") and current is not None:
            current += text[1:]
            size += len(text)
            if size > MAX_ENTRY_BYTES:
                raise FileProblem(f"Posten som börjar på rad {start} är större än {MAX_ENTRY_BYTES // 1024} KiB.")
            continue
        if current is not None:
            take(current)
            current = None
        if not text.strip():
            yield from finish()
            entry, error, size = [], None, 0
            continue
        if text.startswith("#"):
            continue
        if not entry and error is None and text.lower().startswith("version:"):
            continue
        if not entry and error is None:
            start = number
        current, size = text, size + len(text)
        if size > MAX_ENTRY_BYTES:
            raise FileProblem(f"Posten som börjar på rad {start} är större än {MAX_ENTRY_BYTES // 1024} KiB.")
    if current is not None:
        take(current)
    yield from finish()


def parent_dn(dn: str) -> str:
    """The DN one level up (escaped commas respected)."""
    i = 0
    while i < len(dn):
        if dn[i] == "\\":
            i += 2
            continue
        if dn[i] == ",":
            return dn[i + 1:].strip().lower()
        i += 1
    return ""


def read_ldif(lines: LineReader) -> Iterator[Row]:
    unit_dns: dict[str, str] = {}  # unit DN → HSA-ID, so a unit's parent may come from the DN tree
    for line, entry in _ldif_entries(lines):
        if isinstance(entry, str):
            yield Row(line, error=entry)
            continue
        if entry[0][0].lower() != "dn":
            yield Row(line, error="Posten börjar inte med dn:.")
            continue
        attrs: dict[str, list[str]] = {}
        for name, value in entry[1:]:
            attrs.setdefault(name, []).append(value)
        dn = entry[0][1].strip().lower()
        row = _row(line, attrs, parent_hsa_id=unit_dns.get(parent_dn(dn)))
        if row.record is None and row.error == "objectClass ska vara hsaPerson eller hsaUnit.":
            continue  # a container (the base, an ou for people): not an HSA entry
        if row.record is not None and row.record.__class__.__name__ == "UnitRecord":
            unit_dns[dn] = row.record.hsa_id
        yield row


def _ldif_line(name: str, value: str) -> str:
    safe = value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<")) and \
        not value.endswith(" ")
    if safe:
        return f"{name}: {value}\n"
    return f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}\n"


def write_ldif(records: Iterable[Record], base_dn: str = "o=cardadmin-export") -> Iterator[str]:
    yield "version: 1\n\n"
    for record in records:
        attrs = record.attributes()
        lines = [_ldif_line("dn", f"hsaIdentity={record.hsa_id},{base_dn}")]
        lines += [_ldif_line(name, value) for name, values in attrs.items() for value in values]
        yield "".join(lines) + "\n"


def open_rows(handle: IO[bytes], file_format: str, encoding: str | None,
              on_bytes: Callable[[int], None] | None = None) -> tuple[LineReader, Iterator[Row]]:
    if file_format not in FORMATS:
        raise FileProblem(f"Okänt format {file_format!r}; välj csv eller ldif.")
    lines = LineReader(handle, encoding, on_bytes)
    return lines, (read_csv(lines) if file_format == "csv" else read_ldif(lines))
