"""BER-TLV as used by ISO 7816-4 and SP 800-73-4: parse and encode, never IndexError.

Tags are kept as integers of their full encoding (0x5FC102 stays 0x5FC102), as the PIV spec writes them.
Every malformed input (truncated tag, length or value; indefinite or over-long length) raises
`MalformedResponse`, because the bytes come from a card we do not trust.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hardware.errors import MalformedResponse

MAX_LENGTH_BYTES = 3  # 0x83 LL LL LL: 16 MiB, far past any card object


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    def encode(self) -> bytes:
        return encode_tlv(self.tag, self.value)


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise MalformedResponse("truncated TLV tag")
    first = data[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:  # multi-byte tag: more bytes while bit 8 is set
        while True:
            if pos >= len(data):
                raise MalformedResponse("truncated multi-byte TLV tag")
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            if not b & 0x80:
                break
            if tag > 0xFFFFFFFF:
                raise MalformedResponse("TLV tag longer than 4 bytes")
    return tag, pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise MalformedResponse("truncated TLV length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise MalformedResponse("indefinite TLV length")
    if count > MAX_LENGTH_BYTES:
        raise MalformedResponse(f"TLV length field of {count} bytes")
    if pos + count > len(data):
        raise MalformedResponse("truncated TLV length")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def iter_tlv(data: bytes) -> Iterator[Tlv]:
    """Yield the TLVs that make up `data` exactly (trailing garbage is an error)."""
    pos = 0
    while pos < len(data):
        tag, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        if pos + length > len(data):
            raise MalformedResponse(f"TLV {tag:X} claims {length} bytes, {len(data) - pos} present")
        yield Tlv(tag, bytes(data[pos : pos + length]))
        pos += length


def parse_tlv(data: bytes) -> list[Tlv]:
    return list(iter_tlv(data))


def parse_dict(data: bytes) -> dict[int, bytes]:
    """Parse into tag -> value; the first occurrence of a tag wins."""
    out: dict[int, bytes] = {}
    for item in iter_tlv(data):
        out.setdefault(item.tag, item.value)
    return out


def unwrap(data: bytes, tag: int) -> bytes:
    """The value of a single TLV `tag` that must make up all of `data`."""
    items = parse_tlv(data)
    if len(items) != 1 or items[0].tag != tag:
        found = ", ".join(f"{t.tag:X}" for t in items) or "nothing"
        raise MalformedResponse(f"expected one TLV {tag:X}, found {found}")
    return items[0].value


def find(data: bytes, tag: int) -> bytes | None:
    for item in iter_tlv(data):
        if item.tag == tag:
            return item.value
    return None


def require(data: bytes, tag: int) -> bytes:
    value = find(data, tag)
    if value is None:
        raise MalformedResponse(f"missing TLV {tag:X}")
    return value


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise ValueError("negative tag")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_BYTES:
        raise ValueError("TLV value too long")
    return bytes([0x80 | len(body)]) + body


def encode_tlv(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + bytes(value)


def encode_all(items: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(encode_tlv(tag, value) for tag, value in items)
