"""Loading the desk's trust configuration: read again when a file changes or appears, not for every card."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from cardadmin.desk.settings import load_trust
from cardadmin.errors import ConfigurationError
from hardware.simulator import TestPki


def test_trust_is_reused_until_a_file_changes_or_appears(tmp_path: Path) -> None:
    pki = TestPki.create("p256")
    (tmp_path / "crls").mkdir()
    (tmp_path / "root.pem").write_bytes(pki.root.public_bytes(Encoding.PEM))
    (tmp_path / "ca.pem").write_bytes(pki.ca.public_bytes(Encoding.PEM))
    (tmp_path / "crls" / "ca.crl").write_bytes(pki.crl().public_bytes(Encoding.DER))
    config = {"CARDADMIN_TRUST_ANCHORS": str(tmp_path / "root.pem"),
              "CARDADMIN_INTERMEDIATES": str(tmp_path / "ca.pem"), "CARDADMIN_CRLS": str(tmp_path / "crls")}

    first = load_trust(config)
    assert load_trust(config) is first  # nothing changed: nothing read again
    assert [c.serial_number for c in first.anchors] == [pki.root.serial_number] and len(first.crls) == 1

    newer = pki.crl(days=60)  # a new CRL dropped into the folder counts at once
    (tmp_path / "crls" / "ca-2.crl").write_bytes(newer.public_bytes(Encoding.DER))
    second = load_trust(config)
    assert second is not first and len(second.crls) == 2

    replaced = tmp_path / "crls" / "ca.crl"  # a file rewritten in place (new time, maybe same size)
    replaced.write_bytes(newer.public_bytes(Encoding.DER))
    stat = replaced.stat()
    os.utime(replaced, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    third = load_trust(config)
    assert third is not second and all(c.next_update_utc == newer.next_update_utc for c in third.crls)

    (tmp_path / "crls" / "ca-2.crl").unlink()
    (tmp_path / "crls" / "ca.crl").write_bytes(b"not a CRL")
    with pytest.raises(ConfigurationError):
        load_trust(config)
