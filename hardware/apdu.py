"""Command APDUs (ISO 7816-4 short and extended), response splitting and status words.

Pure code: no I/O. `ne` is the maximum response length expected (the decoded Le): None means no Le
field, 256 is short Le=00, 65536 is extended Le=0000.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.errors import MalformedResponse

# Status words (ISO 7816-4 5.1.3, SP 800-73-4 Part 2 Table 6)
SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982
SW_AUTH_METHOD_BLOCKED = 0x6983
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_INCORRECT_DATA = 0x6A80
SW_FUNCTION_NOT_SUPPORTED = 0x6A81
SW_FILE_NOT_FOUND = 0x6A82
SW_INCORRECT_P1P2 = 0x6A86
SW_REFERENCE_NOT_FOUND = 0x6A88
SW_LAST_COMMAND_EXPECTED = 0x6883
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_NO_PRECISE_DIAGNOSIS = 0x6F00

INS_VERIFY = 0x20
INS_CHANGE_REFERENCE = 0x24
INS_RESET_RETRY = 0x2C
INS_GENERAL_AUTHENTICATE = 0x87
INS_SELECT = 0xA4
INS_GET_RESPONSE = 0xC0
INS_GET_DATA = 0xCB

CLA_CHAINING = 0x10
SECRET_INS = frozenset({INS_VERIFY, INS_CHANGE_REFERENCE, INS_RESET_RETRY})  # carry PIN/PUK


class ApduFormatError(ValueError):
    """A command APDU that does not follow ISO 7816-4 (used by the simulator to answer 6700)."""


@dataclass(frozen=True)
class CommandApdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    extended: bool | None = field(default=None, compare=False)  # None: only when needed

    def needs_extended(self) -> bool:
        return len(self.data) > 255 or (self.ne is not None and self.ne > 256)

    def encode(self) -> bytes:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} out of range")
        if len(self.data) > 65535 or (self.ne is not None and not 1 <= self.ne <= 65536):
            raise ValueError("APDU data or Le out of range")
        header = bytes([self.cla, self.ins, self.p1, self.p2])
        extended = self.needs_extended() if self.extended is None else self.extended
        if extended and self.extended is False:
            raise ValueError("APDU does not fit a short APDU")
        body = b""
        if not extended:
            if self.data:
                body += bytes([len(self.data)]) + self.data
            if self.ne is not None:
                body += bytes([self.ne & 0xFF])  # 256 -> 00
            return header + body
        if self.data:
            body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
        if self.ne is not None:
            le = (self.ne & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
            body += le if self.data else b"\x00" + le
        return header + body

    def with_cla(self, cla: int) -> CommandApdu:
        return CommandApdu(cla, self.ins, self.p1, self.p2, self.data, self.ne, self.extended)

    def with_data(self, data: bytes, ne: int | None) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, data, ne, self.extended)

    def with_ne(self, ne: int | None) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, ne, self.extended)


def parse_command(raw: bytes) -> CommandApdu:
    """Decode a command APDU (cases 1, 2, 3, 4; short and extended)."""
    n = len(raw)
    if n < 4:
        raise ApduFormatError("APDU shorter than its header")
    cla, ins, p1, p2 = raw[:4]
    if n == 4:
        return CommandApdu(cla, ins, p1, p2, extended=False)
    if n == 5:
        return CommandApdu(cla, ins, p1, p2, ne=raw[4] or 256, extended=False)
    if raw[4] != 0:
        lc = raw[4]
        data = bytes(raw[5 : 5 + lc])
        if n == 5 + lc:
            return CommandApdu(cla, ins, p1, p2, data, extended=False)
        if n == 6 + lc:
            return CommandApdu(cla, ins, p1, p2, data, raw[-1] or 256, extended=False)
        raise ApduFormatError("short APDU length does not match Lc")
    if n == 7:
        return CommandApdu(cla, ins, p1, p2, ne=int.from_bytes(raw[5:7], "big") or 65536, extended=True)
    if n < 8:
        raise ApduFormatError("truncated extended APDU")
    lc = int.from_bytes(raw[5:7], "big")
    if lc == 0:
        raise ApduFormatError("extended Lc of zero")
    data = bytes(raw[7 : 7 + lc])
    if n == 7 + lc:
        return CommandApdu(cla, ins, p1, p2, data, extended=True)
    if n == 9 + lc:
        return CommandApdu(cla, ins, p1, p2, data, int.from_bytes(raw[-2:], "big") or 65536, extended=True)
    raise ApduFormatError("extended APDU length does not match Lc")


def split_response(resp: bytes) -> tuple[bytes, int]:
    """Split a response APDU into (data, sw)."""
    if len(resp) < 2:
        raise MalformedResponse(f"response of {len(resp)} byte(s) has no status word")
    return bytes(resp[:-2]), (resp[-2] << 8) | resp[-1]


def sw_bytes(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


def describe(apdu: bytes) -> str:
    """Hex of a command APDU for a trace, with the data of PIN commands redacted."""
    if len(apdu) >= 5 and apdu[1] in SECRET_INS:
        return f"{apdu[:4].hex(' ').upper()} <{len(apdu) - 4} bytes redacted>"
    return apdu.hex(" ").upper()
