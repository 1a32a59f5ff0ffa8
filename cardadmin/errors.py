"""Domain errors. Services raise these; each edge (web, API, CLI) translates them exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class CardAdminError(Exception):
    """Base of every error a user may see. ``message`` is Swedish and safe to show."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(CardAdminError):
    """Bad input; ``errors`` holds every field's message when a service checked them all at once."""

    status = 400
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(message, field=field)
        self.errors = errors or ({field: message} if field else {})


class InputProblems:
    """Collects the problems of several fields, so that a form hears of all of them at once:
    ``with problems.check(): ...`` around each check, then ``problems.raise_any()``."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    @contextmanager
    def check(self, field: str | None = None) -> Iterator[None]:
        """Record the InvalidInput raised inside (under ``field`` when given, else under the fields it names)."""
        try:
            yield
        except InvalidInput as exc:
            named = {field: exc.message} if field else (exc.errors or {"": exc.message})
            for name, message in named.items():
                self.errors.setdefault(name, message)

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidInput(" ".join(self.errors.values()), field=next(iter(self.errors)) or None,
                               errors=dict(self.errors))


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
