"""PC/SC result codes become typed errors; pcscd being down is ReaderUnavailable (no pcscd needed)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from smartcard import scard

from hardware.errors import CardRejected, CardRemoved, CardTimeout, NoCard, NoReader, ReaderUnavailable
from hardware.pcsc import _error


@pytest.mark.parametrize(
    ("hresult", "during", "expected"),
    [
        (scard.SCARD_E_NO_SERVICE, "connect", ReaderUnavailable),
        (scard.SCARD_E_SERVICE_STOPPED, "transmit", ReaderUnavailable),
        (scard.SCARD_E_NO_READERS_AVAILABLE, "connect", NoReader),
        (scard.SCARD_E_UNKNOWN_READER, "connect", NoReader),
        (scard.SCARD_E_NO_SMARTCARD, "connect", NoCard),
        (scard.SCARD_W_REMOVED_CARD, "connect", NoCard),
        (scard.SCARD_W_REMOVED_CARD, "transmit", CardRemoved),
        (scard.SCARD_W_RESET_CARD, "transmit", CardRemoved),
        (scard.SCARD_E_TIMEOUT, "transmit", CardTimeout),
        (scard.SCARD_E_SHARING_VIOLATION, "connect", CardRejected),
    ],
)
def test_pcsc_error_mapping(hresult: int, during: str, expected: type) -> None:
    assert type(_error(hresult, during)) is expected


def test_pcscd_down_is_reader_unavailable(tmp_path: os.PathLike[str]) -> None:
    """Point libpcsclite at a socket nobody listens on: exactly what a stopped pcscd looks like."""
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=os.path.join(tmp_path, "no-pcscd.comm"))
    code = (
        "from hardware import pcsc\n"
        "from hardware.errors import ReaderUnavailable\n"
        "try:\n    pcsc.list_readers()\nexcept ReaderUnavailable as e:\n    print('unavailable:', e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("unavailable: The smart card service (pcscd) is not running")
