"""Pure encode/decode: command APDUs, response splitting, BER-TLV, FASC-N, chaining helper."""

from __future__ import annotations

import pytest

from hardware import tlv
from hardware.apdu import ApduFormatError, CommandApdu, describe, parse_command, split_response
from hardware.connection import CardConnection, transceive
from hardware.errors import MalformedResponse
from hardware.piv_data import NON_FEDERAL_FASCN, Chuid, decode_fascn, encode_fascn


@pytest.mark.parametrize(
    ("cmd", "wire"),
    [
        (CommandApdu(0x00, 0xA4, 0x04, 0x00), "00A40400"),
        (CommandApdu(0x00, 0xC0, 0x00, 0x00, ne=256), "00C0000000"),
        (CommandApdu(0x00, 0xC0, 0x00, 0x00, ne=17), "00C0000011"),
        (CommandApdu(0x00, 0x20, 0x00, 0x80, b"\x31\x32"), "00200080023132"),
        (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, b"\x5c\x01\x7e", ne=256), "00CB3FFF035C017E00"),
        (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, ne=65536), "00CB3FFF000000"),
        (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, ne=300), "00CB3FFF00012C"),
        (CommandApdu(0x00, 0x87, 0x07, 0x9A, b"\xaa" * 300), "0087079A00012C" + "AA" * 300),
        (CommandApdu(0x00, 0x87, 0x07, 0x9A, b"\xaa" * 300, ne=65536), "0087079A00012C" + "AA" * 300 + "0000"),
    ],
)
def test_command_encode_and_parse_roundtrip(cmd: CommandApdu, wire: str) -> None:
    assert cmd.encode().hex().upper() == wire
    assert parse_command(bytes.fromhex(wire)) == cmd


@pytest.mark.parametrize(
    "wire", ["", "00A404", "00A4040002AA", "00A404000000", "00A4040000000000", "00A40400020102FFFF"]
)
def test_parse_command_rejects_bad_lengths(wire: str) -> None:
    with pytest.raises(ApduFormatError):
        parse_command(bytes.fromhex(wire))


def test_short_apdu_refused_when_forced_short() -> None:
    with pytest.raises(ValueError):
        CommandApdu(0, 0x87, 0, 0, b"x" * 300, extended=False).encode()


def test_split_response() -> None:
    assert split_response(b"\x01\x02\x90\x00") == (b"\x01\x02", 0x9000)
    assert split_response(b"\x63\xc2") == (b"", 0x63C2)
    for bad in (b"", b"\x90"):
        with pytest.raises(MalformedResponse):
            split_response(bad)


def test_describe_redacts_pin_commands() -> None:
    verify = CommandApdu(0, 0x20, 0, 0x80, b"123456\xff\xff").encode()
    assert "3132" not in describe(verify) and "redacted" in describe(verify)
    unblock = CommandApdu(0, 0x2C, 0, 0x80, b"12345678" + b"654321\xff\xff").encode()
    assert "redacted" in describe(unblock)
    assert describe(bytes.fromhex("00CB3FFF035C017E00")) == "00 CB 3F FF 03 5C 01 7E 00"


def test_tlv_roundtrip_multibyte_tags_and_long_lengths() -> None:
    items = [(0x5FC102, b"a" * 5), (0x70, b"b" * 200), (0x53, b"c" * 70000), (0xFE, b"")]
    encoded = tlv.encode_all(items)
    assert [(t.tag, t.value) for t in tlv.parse_tlv(encoded)] == items
    assert tlv.encode_tlv(0x70, b"x" * 200)[:3] == b"\x70\x81\xc8"
    assert tlv.encode_tlv(0x70, b"x" * 300)[:4] == b"\x70\x82\x01\x2c"
    assert tlv.find(encoded, 0xFE) == b"" and tlv.find(encoded, 0x71) is None
    assert tlv.unwrap(tlv.encode_tlv(0x53, b"xy"), 0x53) == b"xy"


@pytest.mark.parametrize(
    "wire",
    [
        "5F",  # truncated multi-byte tag
        "5FC1",  # still truncated
        "53",  # no length
        "5305AABB",  # value shorter than length
        "538201",  # truncated long length
        "5380",  # indefinite length
        "5385FFFFFFFFFF00",  # 5-byte length field
        "5384FFFFFFFF00",  # 4-byte length field
        "53820100" + "00" * 10,  # lying long length
        "5FFFFFFFFF0100",  # tag longer than 4 bytes
    ],
)
def test_tlv_malformed_raises_typed_error(wire: str) -> None:
    with pytest.raises(MalformedResponse):
        tlv.parse_tlv(bytes.fromhex(wire))


def test_tlv_unwrap_and_require_errors() -> None:
    with pytest.raises(MalformedResponse):
        tlv.unwrap(tlv.encode_tlv(0x53, b"") + b"\x01\x00", 0x53)
    with pytest.raises(MalformedResponse):
        tlv.unwrap(tlv.encode_tlv(0x54, b""), 0x53)
    with pytest.raises(MalformedResponse):
        tlv.require(b"", 0x82)


def test_fascn_roundtrip_and_parity() -> None:
    raw = encode_fascn("1234", "5678", "901234")
    assert len(raw) == 25
    fields = decode_fascn(raw)
    assert (fields["agency"], fields["system"], fields["credential"]) == ("1234", "5678", "901234")
    assert decode_fascn(NON_FEDERAL_FASCN)["agency"] == "9999"
    broken = bytes([raw[0] ^ 0x80]) + raw[1:]
    with pytest.raises(MalformedResponse):
        decode_fascn(broken)


def test_chuid_roundtrip() -> None:
    chuid = Chuid(NON_FEDERAL_FASCN, bytes(range(16)), "20301231")
    assert Chuid.decode(chuid.encode()) == chuid
    with pytest.raises(MalformedResponse):
        Chuid.decode(tlv.encode_tlv(0x34, b"short"))


class Scripted(CardConnection):
    """Answers from a script and records what it was sent."""

    def __init__(self, answers: list[tuple[bytes, int]]) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        return self.answers.pop(0)


def test_transceive_response_chaining() -> None:
    conn = Scripted([(b"a" * 256, 0x6100), (b"b" * 256, 0x6110), (b"c" * 16, 0x9000)])
    data, sw = transceive(conn, CommandApdu(0, 0xCB, 0x3F, 0xFF, b"\x5c\x01\x7e", ne=256))
    assert (len(data), sw) == (528, 0x9000)
    assert conn.sent[1] == bytes.fromhex("00C0000000") and conn.sent[2] == bytes.fromhex("00C0000010")


def test_transceive_wrong_le_resends() -> None:
    conn = Scripted([(b"", 0x6C05), (b"hello", 0x9000)])
    assert transceive(conn, bytes.fromhex("00CA010000")) == (b"hello", 0x9000)
    assert conn.sent[1] == bytes.fromhex("00CA010005")


def test_transceive_command_chaining_stops_on_error() -> None:
    conn = Scripted([(b"", 0x9000), (b"", 0x6A80)])
    data, sw = transceive(conn, CommandApdu(0, 0x87, 0x07, 0x9A, b"x" * 600, ne=256))
    assert sw == 0x6A80 and len(conn.sent) == 2
    assert conn.sent[0][0] == 0x10 and conn.sent[0][4] == 255


def test_transceive_endless_61xx_is_malformed() -> None:
    class Endless(CardConnection):
        def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
            return b"z" * 256, 0x6100

    with pytest.raises(MalformedResponse):
        transceive(Endless(), CommandApdu(0, 0xCB, 0x3F, 0xFF, b"\x5c\x01\x7e", ne=256))
