"""Loading trust anchors, intermediates and CRLs from files (PEM or DER), as the desk configures them."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509


def _split_pem(data: bytes, label: bytes) -> list[bytes]:
    begin, end = b"-----BEGIN " + label + b"-----", b"-----END " + label + b"-----"
    out, pos = [], 0
    while (start := data.find(begin, pos)) != -1:
        stop = data.find(end, start)
        if stop == -1:
            break
        out.append(data[start:stop + len(end)] + b"\n")
        pos = stop + len(end)
    return out


def load_certificates(data: bytes, source: str = "data") -> list[x509.Certificate]:
    """All certificates in PEM (one or more) or DER `data`; ValueError if there are none."""
    try:
        if b"-----BEGIN" in data:
            certs = [x509.load_pem_x509_certificate(p) for p in _split_pem(data, b"CERTIFICATE")]
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise ValueError(f"{source}: not a readable certificate ({exc})") from None
    if not certs:
        raise ValueError(f"{source}: no certificate found")
    return certs


_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


def load_trust_anchors(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Trust anchors from a PEM/DER file, a folder of them (*.pem, *.crt, *.cer, *.der), or several of
    those joined by os.pathsep, as CARDADMIN_TRUST_ANCHORS names them. ValueError if none is found."""
    anchors: list[x509.Certificate] = []
    for part in str(path).split(os.pathsep):
        p = Path(part)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in _CERT_SUFFIXES)
        elif p.is_file():
            files = [p]
        else:
            raise ValueError(f"{p}: no such file or folder")
        for f in files:
            anchors.extend(load_certificates(f.read_bytes(), str(f)))
    if not anchors:
        raise ValueError(f"{path}: no trust anchor certificates found")
    return anchors


def load_crl(data: bytes, source: str = "data") -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise ValueError(f"{source}: not a readable CRL ({exc})") from None


def load_crls(paths: Iterable[str | os.PathLike[str]]) -> list[x509.CertificateRevocationList]:
    """CRLs from files, DER or PEM (one CRL per file)."""
    return [load_crl(Path(p).read_bytes(), str(p)) for p in paths]


# ---------------------------------------------------------------- path validation (pyhanko-certvalidator)
