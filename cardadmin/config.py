"""Settings from the environment.

One place reads the environment; everything else reads ``app.config``. Production refuses to start
without a real secret key, and cookies are marked Secure there.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from cardadmin.errors import ConfigurationError

ENVIRONMENTS = ("development", "production")
MIN_DISTINCT_SECRET_CHARACTERS = 8  # 32 spaces or "k" * 40 are no secret
DEFAULT_SQLITE = "sqlite:///instance/cardadmin.db"


def _absolute_sqlite(url: str, root: Path) -> str:
    """Make a relative SQLite path relative to the project root, not the caller's working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        return prefix + str(root / url[len(prefix) :])
    return url


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and use the psycopg 3 driver."""
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def _development_key(path: Path) -> str:
    """Development only: a random key kept in instance/ (mode 0600) so logins survive a restart."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def _collection_days(env: os._Environ | dict) -> tuple[int, tuple[int, ...]]:
    try:
        revoke = int(env.get("CARDADMIN_UNCOLLECTED_DAYS", "90"))
        reminders = tuple(sorted(int(d) for d in env.get("CARDADMIN_REMINDER_DAYS", "30,60").split(",") if d.strip()))
    except ValueError:
        raise ConfigurationError("CARDADMIN_UNCOLLECTED_DAYS and CARDADMIN_REMINDER_DAYS must be whole days") from None
    if revoke < 1 or any(not 0 < d < revoke for d in reminders):
        raise ConfigurationError("reminder days must lie between 1 and CARDADMIN_UNCOLLECTED_DAYS - 1")
    return revoke, reminders


def load(overrides: dict | None = None, environ: os._Environ | dict | None = None) -> dict:
    env = os.environ if environ is None else environ
    overrides = overrides or {}
    root = Path(__file__).resolve().parent.parent
    mode = overrides.get("CARDADMIN_ENV", env.get("CARDADMIN_ENV", "development"))
    if mode not in ENVIRONMENTS:
        raise ConfigurationError(f"CARDADMIN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {mode!r}")
    production = mode == "production"

    secret = overrides.get("SECRET_KEY", env.get("SECRET_KEY"))
    if not secret:
        if production:
            raise ConfigurationError("SECRET_KEY must be set in production (CARDADMIN_ENV=production)")
        secret = _development_key(root / "instance" / "secret_key")
    elif production and (len(secret) < 32 or len(set(secret) - set(" \t\r\n")) < MIN_DISTINCT_SECRET_CHARACTERS):
        raise ConfigurationError(
            "SECRET_KEY must be at least 32 characters in production and look random (at least "
            f"{MIN_DISTINCT_SECRET_CHARACTERS} different characters, not spaces or one character repeated); "
            "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if production and env.get("CARDADMIN_ALLOW_TEST_IDENTITIES", "0") == "1":
        raise ConfigurationError("CARDADMIN_ALLOW_TEST_IDENTITIES=1 is refused in production: test HSA-IDs "
                                 "(TSTNMT…) and test CAs belong on test systems only")

    uncollected_days, reminder_days = _collection_days(env)
    url = overrides.get("DATABASE_URL", env.get("DATABASE_URL", DEFAULT_SQLITE))
    config = {
        "CARDADMIN_ENV": mode,
        "SECRET_KEY": secret,
        "DATABASE_URL": normalise_database_url(_absolute_sqlite(url, root)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "cardadmin_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=10),
        "IDLE_TIMEOUT": timedelta(minutes=int(env.get("CARDADMIN_IDLE_MINUTES", "30"))),
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "WTF_CSRF_SSL_STRICT": production,
        # Forms are small; file imports (later issues) set their own, larger limits per route.
        "MAX_CONTENT_LENGTH": int(env.get("CARDADMIN_MAX_REQUEST_BYTES", str(2 * 1024 * 1024))),
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        # Login throttle (README, "Security in short"): per account from one address, per address, and a higher
        # ceiling per account over all addresses; all counted over the window, so they expire.
        "LOGIN_MAX_FAILURES_PER_SOURCE": 5,
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": 50,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_THROTTLE_WINDOW": timedelta(minutes=15),
        # Test HSA-IDs (TSTNMT…): allowed outside production unless CARDADMIN_ALLOW_TEST_IDENTITIES says otherwise.
        "ALLOW_TEST_IDENTITIES": env.get("CARDADMIN_ALLOW_TEST_IDENTITIES", "0" if production else "1") == "1",
        # Number of reverse proxies in front of the app (X-Forwarded-For/-Proto are trusted from that many).
        "PROXY_COUNT": int(env.get("CARDADMIN_PROXY_COUNT", "0")),
        # Cards not collected: reminders to the recipient, then revocation by `cardadmin sweep`.
        "UNCOLLECTED_DAYS": uncollected_days,
        "REMINDER_DAYS": reminder_days,
        # Notifications (`cardadmin outbox send`): SMTP when a host is set, else printed.
        "SMTP_HOST": env.get("CARDADMIN_SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("CARDADMIN_SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("CARDADMIN_SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("CARDADMIN_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": env.get("CARDADMIN_SMTP_STARTTLS", "1") not in ("0", "false", "no", ""),
        "MAIL_FROM": env.get("CARDADMIN_MAIL_FROM", "kortutlamning@localhost"),
        "TESTING": False,
    }
    config.update(overrides)
    return config
