"""Domain errors. Services raise these; each edge (web, API, CLI) translates them exactly once."""

from __future__ import annotations


class CardAdminError(Exception):
    """Base of every error a user may see. ``message`` is Swedish and safe to show."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(CardAdminError):
    status = 400
    code = "invalid_input"


class Unauthorized(CardAdminError):
    status = 401
    code = "unauthorized"


class Forbidden(CardAdminError):
    status = 403
    code = "forbidden"


class NotFound(CardAdminError):
    status = 404
    code = "not_found"


class Conflict(CardAdminError):
    status = 409
    code = "conflict"


class TooManyAttempts(CardAdminError):
    status = 429
    code = "too_many_attempts"


class HardwareFailure(CardAdminError):
    status = 503
    code = "hardware_failure"


class ConfigurationError(RuntimeError):
    """The app cannot start as configured (not shown to end users)."""
