"""Bridge a simulated card to pcscd's vpcd driver (vsmartcard), so real middleware can use it.

vpcd listens (default 127.0.0.1:35963 for reader 'Virtual PCD 00 00'); we connect as the card.
Frames are a 2-byte big-endian length and a body. A 1-byte body is a control message: 00 power
off, 01 power on, 02 reset, 04 "send the ATR" (the only one answered). Any other body is a
command APDU, answered with the response APDU. Connecting inserts the card; closing removes it.
"""

from __future__ import annotations

import logging
import socket
import threading

from hardware.simulator.card import SimulatedPivCard
from hardware.simulator.profile import CardProfile

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04
POLL_SECONDS = 0.1
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only  # how often a blocked read looks at the stop event


class _Stopped(Exception):
    pass


def _recv_exact(sock: socket.socket, n: int, stop: threading.Event) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if stop.is_set():
            raise _Stopped()
        try:
            chunk = sock.recv(n - len(buf))
        except TimeoutError:
            continue
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        _quickack(sock)
        buf += chunk
    return bytes(buf)


def _quickack(sock: socket.socket) -> None:
    # vpcd writes the length and the APDU in two send()s without TCP_NODELAY, so its second write
    # waits for our ACK of the first, which Linux delays ~40 ms. QUICKACK (reset by the kernel
    # after use, hence after every recv) ACKs at once.
    if _TCP_QUICKACK is not None:
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)


def _send(sock: socket.socket, body: bytes) -> None:
    sock.sendall(len(body).to_bytes(2, "big") + body)  # one segment: length and body together


def connect_vpcd(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    # Without NODELAY each small response waits for the peer's delayed ACK (Nagle): ~40 ms per APDU.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _quickack(sock)
    sock.settimeout(POLL_SECONDS)
    return sock


def serve(card: SimulatedPivCard, sock: socket.socket, stop: threading.Event) -> None:
    """Answer vpcd on an open socket until `stop` is set or vpcd hangs up."""
    try:
        while not stop.is_set():
            size = int.from_bytes(_recv_exact(sock, 2, stop), "big")
            body = _recv_exact(sock, size, stop) if size else b""
            if size == 1:
                ctrl = body[0]
                if ctrl == CTRL_ATR:
                    _send(sock, card.atr)
                elif ctrl == CTRL_OFF:
                    card.power_off()
                elif ctrl in (CTRL_ON, CTRL_RESET):
                    card.power_on()
                else:
                    log.warning("unknown vpcd control message %02X", ctrl)
            elif size:
                _send(sock, card.process(body))
    except _Stopped:
        pass
    except (ConnectionError, OSError) as exc:
        log.info("vpcd connection ended: %s", exc)
    finally:
        sock.close()


def run_vpcd_bridge(profile: CardProfile | SimulatedPivCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                    stop_event: threading.Event | None = None) -> None:
    """Insert the simulated card into vpcd's reader and serve it until `stop_event` (blocking)."""
    card = profile if isinstance(profile, SimulatedPivCard) else SimulatedPivCard(profile)
    serve(card, connect_vpcd(host, port), stop_event or threading.Event())


class VpcdBridge:
    """The bridge in a background thread: `insert()` connects, `remove()` disconnects."""

    def __init__(self, card: SimulatedPivCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def insert(self) -> None:
        if self._thread is not None:
            return
        sock = connect_vpcd(self.host, self.port)  # raise here, in the caller, if vpcd is absent
        self._stop.clear()
        self.card.insert()
        self._thread = threading.Thread(target=serve, args=(self.card, sock, self._stop),
                                        name=f"vpcd-bridge-{self.port}", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._thread = None
        self.card.remove()

    def __enter__(self) -> VpcdBridge:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
