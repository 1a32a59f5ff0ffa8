"""The abstract card connection that all protocol code depends on, and ISO 7816-4 chaining.

Like yubikit's `SmartCardConnection`: a backend (PC/SC, the simulator, a test double) only has to move
one APDU each way; `transceive` adds response chaining (61xx + GET RESPONSE), the 6Cxx retry, and
command chaining (CLA bit 0x10) so sessions never see those details.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from hardware.apdu import CLA_CHAINING, INS_GET_RESPONSE, CommandApdu, describe, parse_command
from hardware.errors import MalformedResponse

MAX_RESPONSE_BYTES = 65536 + 1024  # bound what a lying card can make us collect
MAX_SHORT_DATA = 255
MAX_GET_RESPONSE_ROUNDS = MAX_RESPONSE_BYTES // 256 + 1

T = TypeVar("T")


class CardConnection(ABC):
    """One open channel to one card."""

    @abstractmethod
    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one command APDU; return (response data, status word). Raise HardwareError subclasses."""

    def close(self) -> None:  # noqa: B027 - optional hook, most test doubles have nothing to close
        """Release the card."""

    def run(self, operation: Callable[[], T]) -> T:
        """Run one card operation (however many APDUs it sends) as one unit. A backend that must bound how
        long a card may keep us waiting (PC/SC) bounds the whole unit; APDUs sent outside any unit are
        bounded one by one. Here, with nothing to bound, the operation simply runs."""
        return operation()

    @property
    def atr(self) -> bytes | None:
        return None

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class WrappedConnection(CardConnection):
    """A connection that passes everything on to ``inner``; subclasses look at the APDUs on the way."""

    def __init__(self, inner: CardConnection) -> None:
        self.inner = inner

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        return self.inner.send_and_receive(apdu)

    def close(self) -> None:
        self.inner.close()

    def run(self, operation: Callable[[], T]) -> T:
        return self.inner.run(operation)

    @property
    def atr(self) -> bytes | None:
        return self.inner.atr


class TracingConnection(WrappedConnection):
    """Opt-in APDU trace to a logger at DEBUG. PIN/PUK-carrying commands are redacted."""

    def __init__(self, inner: CardConnection, logger: logging.Logger | None = None) -> None:
        super().__init__(inner)
        self.logger = logger or logging.getLogger("hardware.apdu")

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        self.logger.debug("> %s", describe(apdu))
        data, sw = self.inner.send_and_receive(apdu)
        self.logger.debug("< %s %04X", data.hex(" ").upper(), sw)
        return data, sw


def transceive(conn: CardConnection, apdu: CommandApdu | bytes) -> tuple[bytes, int]:
    """Send a command with ISO 7816-4 chaining handled; return (all response data, final sw)."""
    cmd = parse_command(apdu) if isinstance(apdu, bytes) else apdu
    if len(cmd.data) > MAX_SHORT_DATA and cmd.extended is not True:
        chunks = [cmd.data[i : i + MAX_SHORT_DATA] for i in range(0, len(cmd.data), MAX_SHORT_DATA)]
        for chunk in chunks[:-1]:
            part = CommandApdu(cmd.cla | CLA_CHAINING, cmd.ins, cmd.p1, cmd.p2, chunk, None, False)
            data, sw = conn.send_and_receive(part.encode())
            if sw != 0x9000:
                return data, sw
        cmd = cmd.with_data(chunks[-1], cmd.ne)
    if cmd.extended is not True and cmd.ne is not None and cmd.ne > 256:
        cmd = cmd.with_ne(256)  # short APDU: the rest comes by GET RESPONSE

    data, sw = conn.send_and_receive(cmd.encode())
    if sw >> 8 == 0x6C:  # wrong Le; SW2 is the exact length to ask for
        data, sw = conn.send_and_receive(cmd.with_ne((sw & 0xFF) or 256).encode())

    out = bytearray(data)
    rounds = 0
    while sw >> 8 == 0x61:
        rounds += 1  # bound both bytes and rounds: a card can also chain empty answers forever
        if len(out) > MAX_RESPONSE_BYTES or rounds > MAX_GET_RESPONSE_ROUNDS:
            raise MalformedResponse("response chaining does not end")
        get = CommandApdu(cmd.cla & 0x03, INS_GET_RESPONSE, 0, 0, ne=(sw & 0xFF) or 256)
        data, sw = conn.send_and_receive(get.encode())
        out += data
    return bytes(out), sw
