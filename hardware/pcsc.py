"""PC/SC backend: the only module that imports pyscard.

Maps every PC/SC failure to a typed error: pcscd down -> ReaderUnavailable, no such reader ->
NoReader, no card -> NoCard, card pulled -> CardRemoved, no answer in time -> CardTimeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from smartcard import scard
from smartcard.CardMonitoring import CardMonitor, CardObserver

from hardware.connection import CardConnection
from hardware.errors import (
    CardRejected,
    CardRemoved,
    CardTimeout,
    HardwareError,
    MalformedResponse,
    NoCard,
    NoReader,
    ReaderUnavailable,
)

_SCARD_PRESENT = 0x0004  # SCardStatus dwState bit (pcsclite.h); pyscard does not export it
DEFAULT_TIMEOUT = 10.0  # seconds for one card operation; a PIV RSA-2048 signature takes well under 2 s
T = TypeVar("T")

_NO_SERVICE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_E_NO_READERS_AVAILABLE}
_NO_READER = {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE}
_NO_CARD = {scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_W_UNRESPONSIVE_CARD}
_REMOVED = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_W_RESET_CARD, scard.SCARD_E_NO_SMARTCARD}


def _error(hresult: int, during: str, reader: str | None = None) -> HardwareError:
    """The typed error for a PC/SC result code; `during` is 'connect' or 'transmit'."""
    text = scard.SCardGetErrorMessage(hresult)
    if hresult in _NO_SERVICE and hresult != scard.SCARD_E_NO_READERS_AVAILABLE:
        return ReaderUnavailable()
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE or hresult in _NO_READER:
        return NoReader(reader)
    if hresult == scard.SCARD_E_TIMEOUT:
        return CardTimeout()
    if during == "transmit" and hresult in _REMOVED:
        return CardRemoved()
    if hresult in _NO_CARD or hresult == scard.SCARD_W_REMOVED_CARD:
        return NoCard()
    if hresult == scard.SCARD_E_SHARING_VIOLATION:
        return CardRejected("the card is in use by another program")
    return HardwareError(f"Card reader error during {during}: {text} (0x{hresult & 0xFFFFFFFF:08X}).")


def _context() -> Any:
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise _error(hresult, "connect")
    return ctx


def _readers(ctx: Any) -> list[str]:
    hresult, readers = scard.SCardListReaders(ctx, [])
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        return []
    if hresult != scard.SCARD_S_SUCCESS:
        raise _error(hresult, "connect")
    return list(readers)


def list_readers() -> list[str]:
    """Names of the connected readers; ReaderUnavailable if pcscd is not running."""
    ctx = _context()
    try:
        return _readers(ctx)
    finally:
        scard.SCardReleaseContext(ctx)


def reader_has_card(reader: str) -> bool:
    ctx = _context()
    try:
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "connect", reader)
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(ctx)


def wait_for_card(reader: str, timeout: float) -> bool:
    """Block until a card is in `reader` (True) or `timeout` seconds pass (False)."""
    ctx = _context()
    try:
        state = scard.SCARD_STATE_UNAWARE
        while True:
            hresult, states = scard.SCardGetStatusChange(ctx, int(timeout * 1000), [(reader, state)])
            if hresult == scard.SCARD_E_TIMEOUT:
                return False
            if hresult != scard.SCARD_S_SUCCESS:
                raise _error(hresult, "connect", reader)
            state = states[0][1]
            if state & scard.SCARD_STATE_PRESENT:
                return True
    finally:
        scard.SCardReleaseContext(ctx)


def card_presence() -> dict[str, bytes | None]:
    """Every reader and the ATR of the card in it (None when empty), in one fresh PC/SC context, so a
    caller polling this survives pcscd restarts and readers coming and going."""
    ctx = _context()
    try:
        readers = _readers(ctx)
        if not readers:
            return {}
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(r, scard.SCARD_STATE_UNAWARE) for r in readers])
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "connect")
        return {str(name): (bytes(atr) if state & scard.SCARD_STATE_PRESENT else None) for name, state, atr in states}
    finally:
        scard.SCardReleaseContext(ctx)


def _pick_reader(readers: list[str], wanted: str | None) -> str:
    if not readers:
        raise NoReader(wanted)
    if wanted is None:
        return readers[0]
    for name in readers:
        if name == wanted:
            return name
    for name in readers:
        if wanted.lower() in name.lower():
            return name
    raise NoReader(wanted)


class _Worker:
    """A thread that runs card operations for one connection at a time, kept for the next connection when
    that one closes (starting a thread for every verification cost about 0.1 ms). A worker that timed out
    is still waiting on its card and is never reused."""

    _idle: list[_Worker] = []
    _idle_lock = threading.Lock()

    def __init__(self) -> None:
        self._go = threading.Lock()
        self._go.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._job: Callable[[], Any] | None = None
        self._outcome: tuple[bool, Any] = (False, None)
        thread = threading.Thread(target=self._loop, name="pcsc", daemon=True)
        thread.start()
        self.ident = thread.ident

    @classmethod
    def take(cls) -> _Worker:
        with cls._idle_lock:
            return cls._idle.pop() if cls._idle else cls()

    def give_back(self) -> None:
        with self._idle_lock:
            if len(self._idle) < 4:
                self._idle.append(self)

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            assert self._job is not None
            try:
                self._outcome = (True, self._job())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller, who raises it
                self._outcome = (False, exc)
            self._job = None
            self._done.release()

    def call(self, job: Callable[[], T], timeout: float) -> T:
        """`job()` on this worker; TimeoutError if it takes longer than `timeout` seconds."""
        self._job = job
        self._go.release()
        if not self._done.acquire(timeout=timeout):
            raise TimeoutError
        ok, value = self._outcome
        self._outcome = (False, None)
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]


class PcscConnection(CardConnection):
    """An open PC/SC card handle. Prefer `connect()` to constructing this directly.

    PC/SC has no timeout of its own for a transmit, and nothing unblocks a transmit to a card that has
    fallen silent (SCardCancel, SCardDisconnect and SCardReleaseContext from another thread all wait
    for it: measured with pcsc-lite and vpcd). So the card is talked to on a worker thread while the
    caller waits at most `timeout` seconds. The bound is per unit: one `run(operation)` (a whole card
    operation, its APDUs sent directly on the worker), or a single APDU sent outside any unit. Handing
    each APDU to the worker separately cost about 80 microseconds of thread switching an APDU, more than
    a third of what the APDU itself costs through pcscd. A timed-out unit leaves the handle unusable, so
    the connection refuses further use instead of interleaving answers.
    """

    def __init__(self, ctx: Any, hcard: Any, protocol: int, reader: str, exclusive: bool, timeout: float) -> None:
        self._ctx = ctx
        self._hcard = hcard
        self._protocol = protocol
        self.reader = reader
        self._atr: bytes | None = None
        self.exclusive = exclusive
        self.timeout = timeout
        self._worker: _Worker | None = None  # taken at the first unit, given back at close
        self._broken: HardwareError | None = None
        self._closed = False

    @property
    def atr(self) -> bytes:
        """The card's ATR, asked of the reader the first time it is wanted (a verification does not need it)."""
        if self._atr is None:
            hresult, _, _, _, atr = scard.SCardStatus(self._hcard)
            if hresult != scard.SCARD_S_SUCCESS:
                raise _error(hresult, "transmit", self.reader)
            self._atr = bytes(atr)
        return self._atr

    def run(self, operation: Callable[[], T]) -> T:
        if self._on_worker():
            return operation()  # a unit inside a unit: already bounded
        return self._bounded(operation)

    def _on_worker(self) -> bool:
        return self._worker is not None and threading.get_ident() == self._worker.ident

    def _bounded(self, operation: Callable[[], T]) -> T:
        self._check_usable()
        if self._worker is None:
            self._worker = _Worker.take()
        try:
            return self._worker.call(operation, self.timeout)
        except TimeoutError:
            self._broken = CardTimeout(self.timeout)
            raise self._broken from None

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise self._broken
        if self._closed:
            raise CardRemoved("The card connection is closed.")

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        if not self._on_worker():
            return self._bounded(lambda: self.send_and_receive(apdu))
        self._check_usable()
        hresult, response = scard.SCardTransmit(self._hcard, self._protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            err = _error(hresult, "transmit", self.reader)
            # pcsc-lite often reports a pulled card as "transaction failed"; ask the reader.
            if isinstance(err, CardRemoved | NoCard) or not self._card_present():
                self._broken = CardRemoved()
                raise self._broken
            raise err
        if len(response) < 2:
            raise MalformedResponse("response without a status word")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def _card_present(self, grace: float = 1.0) -> bool:
        """Whether the card is still there; pcscd polls readers (~0.4 s), so give it a moment."""
        deadline = time.monotonic() + grace
        while True:
            hresult, _, state, _, _ = scard.SCardStatus(self._hcard)
            if hresult != scard.SCARD_S_SUCCESS or not state & _SCARD_PRESENT:
                return False
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.05)

    def close(self, disposition: int | None = None) -> None:
        """Disconnect; by default RESET the card so no verified PIN state outlives us.

        After a timeout the worker is still inside a transmit, and pcsc-lite makes a disconnect wait for
        it (for ever, if the card never answers): the disconnect is left to a thread of its own, so closing
        returns at once."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None and self._broken is None:
            self._worker.give_back()

        def release() -> None:
            scard.SCardDisconnect(self._hcard, scard.SCARD_RESET_CARD if disposition is None else disposition)
            scard.SCardReleaseContext(self._ctx)

        if isinstance(self._broken, CardTimeout):
            threading.Thread(target=release, name="pcsc-release", daemon=True).start()
        else:
            release()


def connect(reader: str | None = None, *, timeout: float = DEFAULT_TIMEOUT, exclusive: bool = True) -> PcscConnection:
    """Connect to the card in `reader` (exact name, or a case-insensitive part of it).

    Exclusive access first, so nothing else talks to the card mid-verification; shared access
    if another program holds the card shared. An exact name is tried first without listing the readers
    (one round trip to pcscd fewer); anything else is looked up in the list.
    """
    ctx = _context()
    try:
        name = reader
        hresult, hcard, protocol, mode = _connect(ctx, reader, exclusive) if reader else (None, None, 0, 0)
        if hresult is None or hresult in _NO_READER or hresult == scard.SCARD_E_INVALID_VALUE:
            name = _pick_reader(_readers(ctx), reader)
            hresult, hcard, protocol, mode = _connect(ctx, name, exclusive)
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "connect", name)
        assert name is not None
        return PcscConnection(ctx, hcard, protocol, name, mode == scard.SCARD_SHARE_EXCLUSIVE, timeout)
    except BaseException:
        scard.SCardReleaseContext(ctx)
        raise


def _connect(ctx: Any, name: str, exclusive: bool) -> tuple[int, Any, int, int]:
    """SCardConnect, exclusive first when asked: (hresult, handle, protocol, share mode used)."""
    protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    modes = [scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_SHARE_SHARED] if exclusive else [scard.SCARD_SHARE_SHARED]
    for mode in modes:
        hresult, hcard, protocol = scard.SCardConnect(ctx, name, mode, protocols)
        if hresult != scard.SCARD_E_SHARING_VIOLATION:
            break
    return hresult, hcard, protocol, mode


CardEvent = Callable[[str, bytes], None]  # (reader name, ATR)


class _Observer(CardObserver):  # type: ignore[misc]
    def __init__(self, on_insert: CardEvent | None, on_remove: CardEvent | None) -> None:
        self.on_insert = on_insert
        self.on_remove = on_remove

    def update(self, observable: object, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        for card, callback in [(c, self.on_remove) for c in removed] + [(c, self.on_insert) for c in added]:
            if callback is not None:
                callback(str(card.reader), bytes(card.atr))


class CardMonitorEvents:
    """Calls `on_insert(reader, atr)` / `on_remove(reader, atr)` from pyscard's monitor thread.

    Cards already present when monitoring starts are reported as inserted. Callbacks must be quick
    and must not raise; hand work to your own thread or queue.
    """

    def __init__(self, on_insert: CardEvent | None = None, on_remove: CardEvent | None = None) -> None:
        self._observer = _Observer(on_insert, on_remove)
        self._monitor: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        list_readers()  # fail fast with ReaderUnavailable instead of a traceback in the monitor thread
        with self._lock:
            if self._monitor is None:
                self._monitor = CardMonitor()
                self._monitor.addObserver(self._observer)

    def stop(self) -> None:
        with self._lock:
            if self._monitor is not None:
                self._monitor.deleteObserver(self._observer)
                self._monitor = None

    def __enter__(self) -> CardMonitorEvents:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
