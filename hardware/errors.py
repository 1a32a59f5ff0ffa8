"""Typed hardware errors. Each carries its data; messages are plain English (the app translates)."""

from __future__ import annotations


class HardwareError(Exception):
    """Base class for everything that can go wrong between us and a card."""

    message = "A card reader error occurred."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class ReaderUnavailable(HardwareError):
    message = "The smart card service (pcscd) is not running or cannot be reached."


class NoReader(HardwareError):
    message = "No card reader is connected."

    def __init__(self, reader: str | None = None) -> None:
        self.reader = reader
        super().__init__(f"Card reader {reader!r} was not found." if reader else None)


class NoCard(HardwareError):
    message = "There is no card in the reader."


class CardRemoved(HardwareError):
    message = "The card was removed from the reader."


class CardTimeout(HardwareError):
    message = "The card did not answer in time."

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        super().__init__(f"The card did not answer within {seconds:g} seconds." if seconds else None)


class InvalidPin(HardwareError):
    """Wrong PIN; `attempts_left` is what the card reported (None if it did not say)."""

    def __init__(self, attempts_left: int | None) -> None:
        self.attempts_left = attempts_left
        if attempts_left is None:
            msg = "The PIN is wrong."
        else:
            msg = f"The PIN is wrong; {attempts_left} attempt(s) left before the card is blocked."
        super().__init__(msg)


class PinBlocked(HardwareError):
    message = "The PIN is blocked; the card must be unblocked with its PUK."


class CardRejected(HardwareError):
    """The card is not one we can use (wrong application, unsupported key, refused operation)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The card cannot be used: {reason}")


class ApduError(HardwareError):
    """The card answered a command with an unexpected status word."""

    def __init__(self, sw: int, command: str | None = None) -> None:
        self.sw = sw
        self.command = command
        what = f" to {command}" if command else ""
        super().__init__(f"The card answered{what} with status {sw:04X}.")


class MalformedResponse(HardwareError):
    """The card's answer does not parse (truncated, lying lengths, missing tags)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"The card sent a malformed answer: {detail}")
