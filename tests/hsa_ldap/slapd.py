"""A throwaway OpenLDAP server for HSA sync tests and the benchmark: Debian's slapd, run as a child process on a
free loopback port from a temporary directory (its own slapd.conf, the small HSA test schema, an MDB database),
loaded with ldapadd, stopped and removed afterwards. No root configuration is touched."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

SUFFIX = "dc=hsa,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "slapd-test-secret"  # noqa: S105 (a throwaway test server on loopback)
SCHEMA = Path(__file__).with_name("hsa.schema")
SYSTEM_SCHEMA = Path("/etc/ldap/schema")
MODULE_PATH = Path("/usr/lib/ldap")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def available() -> bool:
    return bool(shutil.which("slapd") or Path("/usr/sbin/slapd").exists()) and bool(shutil.which("ldapadd"))


class Slapd:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.workdir / "slapd.conf"

    def _write_conf(self) -> None:
        db = self.workdir / "db"
        db.mkdir(parents=True, exist_ok=True)
        self.conf.write_text("\n".join([
            *(f"include {SYSTEM_SCHEMA / name}" for name in ("core.schema", "cosine.schema",
                                                            "inetorgperson.schema")),
            f"include {SCHEMA}",
            f"pidfile {self.workdir / 'slapd.pid'}",
            f"modulepath {MODULE_PATH}",
            "moduleload back_mdb",
            "sizelimit unlimited",
            "database mdb",
            "maxsize 2147483648",
            f'suffix "{SUFFIX}"',
            f'rootdn "{ROOT_DN}"',
            f"rootpw {ROOT_PASSWORD}",
            f"directory {db}",
            "dbnosync",  # a throwaway server: no fsync per write
            "index objectClass eq",
            "access to * by * read",
            "",
        ]))

    def slapadd(self, ldif: Path) -> None:
        """Bulk-load before start (what slapadd is for: far faster than ldapadd for large test directories)."""
        self._write_conf()
        slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
        subprocess.run([slapadd, "-q", "-f", str(self.conf), "-l", str(ldif)], check=True, capture_output=True)

    def start(self) -> Slapd:
        if not self.conf.exists():
            self._write_conf()
        conf = self.conf
        slapd = shutil.which("slapd") or "/usr/sbin/slapd"
        log = (self.workdir / "slapd.log").open("wb")
        self.process = subprocess.Popen([slapd, "-f", str(conf), "-h", f"{self.url}/", "-d", "0"],
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd stopped: {(self.workdir / 'slapd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start listening within 15 s")

    def ldapadd(self, ldif: str | Path, *, modify: bool = False) -> None:
        path = Path(ldif) if isinstance(ldif, Path) else self.workdir / "load.ldif"
        if not isinstance(ldif, Path):
            path.write_text(ldif, encoding="utf-8")
        tool = "ldapmodify" if modify else "ldapadd"
        subprocess.run([tool, "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, "-f", str(path)],
                       check=True, capture_output=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def base_ldif() -> str:
    return f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hsa\no: HSA test\n\n"


def unit_ldif(dn: str, name: str, hsa_id: str) -> str:
    return (f"dn: {dn}\nobjectClass: organizationalUnit\nobjectClass: hsaUnit\nou: {name}\n"
            f"hsaIdentity: {hsa_id}\n\n")


def person_ldif(parent_dn: str, hsa_id: str, given: str, surname: str, units: Iterable[str] = (),
                title: str = "") -> str:
    lines = [f"dn: hsaIdentity={hsa_id},{parent_dn}", "objectClass: inetOrgPerson", "objectClass: hsaPerson",
             f"cn: {given} {surname}", f"givenName: {given}", f"sn: {surname}", f"hsaIdentity: {hsa_id}"]
    lines += [f"hsaUnitIdentity: {u}" for u in units]
    if title:
        lines.append(f"title: {title}")
    return "\n".join(lines) + "\n\n"
