"""The desk's verification settings: trust anchors, issuing CAs, CRLs, policy OIDs and the local reader.

Each setting is read from the app config first (tests, an instance config) and then from the environment:

| setting | what |
|---|---|
| CARDADMIN_TRUST_ANCHORS | trusted root CAs: PEM/DER files or folders, joined by os.pathsep |
| CARDADMIN_INTERMEDIATES | issuing CA certificates (cards carry only their own certificates), same form |
| CARDADMIN_CRLS | CRL files or folders (*.crl, *.pem, *.der), same form |
| CARDADMIN_AUTH_POLICY_OIDS, CARDADMIN_SIGN_POLICY_OIDS | accepted certificatePolicies OIDs, comma-separated |
| CARDADMIN_LOCAL_READER | 1: this app runs on the desk PC and reads its own reader (default outside production) |
| CARDADMIN_READER | the reader to use (a part of its name); default the first |

The folders are looked at for each verification, so a new CRL dropped into one counts at once; what was
read is kept while no file changes (same names, sizes and modification times), so a large CRL is not read
and parsed again for every card.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from cardadmin.errors import ConfigurationError
from hardware.trust import load_certificates, load_crl, load_trust_anchors
from hardware.verify import VerificationPolicy

_CRL_SUFFIXES = {".crl", ".pem", ".der"}


def setting(config: Mapping[str, Any], name: str, default: str = "") -> str:
    value = config.get(name)
    if value is None:
        value = os.environ.get(name, default)
    return str(value).strip()


def _paths(value: str, suffixes: set[str] | None) -> list[Path]:
    files: list[Path] = []
    for part in filter(None, value.split(os.pathsep)):
        p = Path(part)
        if p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.is_file()
                                and (suffixes is None or f.suffix.lower() in suffixes)))
        elif p.is_file():
            files.append(p)
        else:
            raise ConfigurationError(f"{p}: no such file or folder")
    return files


@dataclass(frozen=True)
class TrustConfig:
    anchors: list[x509.Certificate]
    intermediates: list[x509.Certificate]
    crls: list[x509.CertificateRevocationList]
    policy: VerificationPolicy


def _oids(value: str) -> frozenset[str]:
    return frozenset(o.strip() for o in value.split(",") if o.strip())


_CA_SUFFIXES = {".pem", ".crt", ".cer", ".der"}
_loaded: dict[tuple[Any, ...], TrustConfig] = {}  # by what the files are now; a few entries at most


def _stamp(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    stats = [(p, p.stat()) for p in paths]
    return tuple((str(p), st.st_mtime_ns, st.st_size) for p, st in stats)


def load_trust(config: Mapping[str, Any]) -> TrustConfig:
    """Everything the policy needs from configuration. ConfigurationError (shown to the desk as a setup
    problem, never a traceback) when the anchors are missing or a file cannot be read."""
    anchors_setting = setting(config, "CARDADMIN_TRUST_ANCHORS")
    if not anchors_setting:
        raise ConfigurationError("CARDADMIN_TRUST_ANCHORS is not set")
    policy = VerificationPolicy(_oids(setting(config, "CARDADMIN_AUTH_POLICY_OIDS")),
                                _oids(setting(config, "CARDADMIN_SIGN_POLICY_OIDS")))
    try:
        ca_files = _paths(setting(config, "CARDADMIN_INTERMEDIATES"), _CA_SUFFIXES)
        crl_files = _paths(setting(config, "CARDADMIN_CRLS"), _CRL_SUFFIXES)
        key = (_stamp(_paths(anchors_setting, None)), _stamp(ca_files), _stamp(crl_files), policy)
        if key in _loaded:
            return _loaded[key]
        anchors = load_trust_anchors(anchors_setting)
        intermediates = [c for f in ca_files for c in load_certificates(f.read_bytes(), str(f))]
        crls = [load_crl(f.read_bytes(), str(f)) for f in crl_files]
    except (ValueError, OSError) as exc:
        raise ConfigurationError(str(exc)) from None
    if len(_loaded) >= 4:
        _loaded.clear()
    _loaded[key] = TrustConfig(anchors, intermediates, crls, policy)
    return _loaded[key]


def local_reader_enabled(config: Mapping[str, Any]) -> bool:
    production = config.get("CARDADMIN_ENV") == "production"
    return setting(config, "CARDADMIN_LOCAL_READER", "0" if production else "1").lower() in ("1", "true", "yes", "on")


def reader_name(config: Mapping[str, Any]) -> str | None:
    return setting(config, "CARDADMIN_READER") or None
