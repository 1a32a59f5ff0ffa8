from datetime import date

import pytest

from cardadmin.identifiers import (
    format_org_number,
    luhn_ok,
    mask_personnummer,
    normalise_org_number,
    organisation_number_of,
    parse_hsa_id,
    parse_personnummer,
    scrub_personnummer,
)


def test_luhn():
    assert luhn_ok("2321000222")
    assert not luhn_ok("2321000223")
    assert not luhn_ok("23210a0222")


@pytest.mark.parametrize("raw", ["232100-0222", "2321000222", " 232100-0222 "])
def test_org_number_accepts_both_forms(raw):
    assert normalise_org_number(raw) == "2321000222"
    assert format_org_number("2321000222") == "232100-0222"


@pytest.mark.parametrize("raw,message", [
    ("232100-0223", "kontrollsiffra"), ("23210-0222", "tio siffror"), ("", "tio siffror"), ("abcdefghij", "tio"),
])
def test_org_number_rejects(raw, message):
    with pytest.raises(ValueError, match=message):
        normalise_org_number(raw)


@pytest.mark.parametrize("value", ["SE2321000222-4KX7", "SE2321000222-a", "TSTNMT2321000156-1019"])
def test_hsa_id_valid(value):
    assert parse_hsa_id(value, allow_test=True)[0] == value


def test_hsa_id_organisation_part_is_returned():
    assert parse_hsa_id("SE2321000222-4KX7", allow_test=False)[1] == "2321000222"


@pytest.mark.parametrize("value,message", [
    ("SE2321000222", "formen"), ("SE2321000222-", "formen"), ("SE2321000222-ÅÄÖ", "formen"),
    ("SE2321000223-4KX7", "kontrollsiffra"), ("SE2321000222-" + "A" * 19, "högst 31"),
    ("NO2321000222-1", "formen"), ("SE2321000222-4K X7", "formen"),
])
def test_hsa_id_invalid(value, message):
    with pytest.raises(ValueError, match=message):
        parse_hsa_id(value, allow_test=True)


def test_hsa_id_at_exactly_31_characters_is_accepted():
    value = "SE2321000222-" + "A" * 18
    assert len(value) == 31
    assert parse_hsa_id(value, allow_test=False)[0] == value


def test_test_identities_refused_when_not_allowed():
    with pytest.raises(ValueError, match="produktion"):
        parse_hsa_id("TSTNMT2321000156-1019", allow_test=False)


@pytest.mark.parametrize("raw,expected", [
    ("19121212-1212", "191212121212"),
    ("191212121212", "191212121212"),
    ("121212-1212", "201212121212"),   # ten digits: the most recent century that is not in the future
    ("121212+1212", "191212121212"),   # '+' marks 100 years or older
    ("19701063-2391", "197010632391"),  # samordningsnummer: day + 60
])
def test_personnummer_valid(raw, expected):
    assert parse_personnummer(raw, today=date(2026, 11, 23)) == expected


@pytest.mark.parametrize("raw,message", [
    ("19121212-1213", "kontrollsiffra"), ("19121312-1212", "datum"), ("1912121-1212", "ÅÅÅÅMMDD"),
    ("19700230-1234", "datum"), ("", "ÅÅÅÅMMDD"),
])
def test_personnummer_invalid(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_personnummer(raw)


def test_masking_shows_birth_date_only():
    assert mask_personnummer("191212121212") == "19121212-****"
    assert mask_personnummer("121212-1212") == "121212-****"
    assert mask_personnummer("x") == "****"


def test_scrub_masks_numbers_in_text_but_not_organisation_numbers():
    text = "Person 19121212-1212 och 1212121212 hos org 2321000222 / 232100-0222, kort 1234567890"
    scrubbed = scrub_personnummer(text)
    assert "1212-1212" not in scrubbed and "1212121212" not in scrubbed
    assert "19121212-****" in scrubbed and "121212-****" in scrubbed
    assert "2321000222" in scrubbed and "232100-0222" in scrubbed
    assert "1234567890" in scrubbed  # fails Luhn: not a personal identity number


@pytest.mark.parametrize(("value", "expected"), [
    ("SE2321000222-4KX7", "2321000222"), ("TSTNMT2321000156-1019", "2321000156"), (" SE2321000222-A ", "2321000222"),
    ("SE232100022-4KX7", None), ("2321000222", None), ("", None), ("XX2321000222-1", None),
])
def test_organisation_number_of_an_hsa_id_is_read_by_the_validating_pattern(value, expected):
    assert organisation_number_of(value) == expected


def test_only_ascii_digits_make_an_identifier():
    """'²' passed str.isdigit() and then failed int() (an English message); other scripts' digits made a valid
    HSA-ID ('SE٢٣٢١٠٠٠٢٢٢-1')."""
    with pytest.raises(ValueError, match="tio siffror"):
        normalise_org_number("232100-022²")
    with pytest.raises(ValueError, match="formen"):
        parse_hsa_id("SE٢٣٢١٠٠٠٢٢٢-1", allow_test=False)
    with pytest.raises(ValueError, match="ÅÅÅÅMMDD"):
        parse_personnummer("١٩٨٠٠١٠١-٠٠٠٠")
    assert not luhn_ok("232100022²")
