"""Django settings for the case store and the review app.

Everything deployment-specific comes from the environment, never the repository:

- ``MATCHING_WORKSPACE``: the workspace folder; the SQLite case store is
  ``<workspace>/casework.sqlite3``.
- ``DATABASE_URL``: ``postgresql://user:password@host:port/name`` to use PostgreSQL instead
  (``postgresql://user@/name?host=/run/postgresql`` for a unix socket).
- ``MATCHING_SECRET_KEY``: required when ``MATCHING_DEBUG`` is off and no workspace key file
  exists; otherwise a random key is created once in ``<workspace>/secret_key`` (mode 0600).
- ``MATCHING_HTTPS=1``: the app is served over HTTPS (directly or behind a TLS proxy that
  sets ``X-Forwarded-Proto``): secure cookies, HSTS and redirects to HTTPS.
- ``MATCHING_ALLOWED_HOSTS``: comma-separated host names (default: localhost names).
- ``MATCHING_DEBUG=1``: development only.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from matching.workspace import resolve_workspace


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


WORKSPACE = resolve_workspace()
BASE_DIR = Path(__file__).resolve().parent
DEBUG = _flag("MATCHING_DEBUG")
HTTPS = _flag("MATCHING_HTTPS")


def _secret_key() -> str:
    if key := os.environ.get("MATCHING_SECRET_KEY"):
        return key
    if os.environ.get("PYTEST_VERSION"):
        return secrets.token_urlsafe(50)  # the test runner: a throwaway key, never written
    # Kept beside the data it protects, readable by the owner only; never in the repository.
    path = WORKSPACE / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    WORKSPACE.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


SECRET_KEY = _secret_key()


def database_from_url(url: str) -> dict[str, object]:
    """Django's DATABASES entry for a ``postgresql://`` URL (the only server we support)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(
            f"DATABASE_URL must start with postgresql:// (got {parts.scheme or 'nothing'}://); "
            "unset it to use the SQLite case store in the workspace."
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "matching",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        # ?host=/path/to/socket-dir (and ?port=) reach a server on a unix socket only
        "HOST": parts.hostname or query.get("host", [""])[0],
        "PORT": str(parts.port or query.get("port", [""])[0]),
        "CONN_MAX_AGE": 60,
        "TEST": {"NAME": f"test_{unquote(parts.path.lstrip('/')) or 'matching'}"},
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(WORKSPACE / "casework.sqlite3"),
            "OPTIONS": {
                # WAL lets investigators read while a publish writes; IMMEDIATE transactions
                # take the write lock up front, so two writers queue instead of deadlocking;
                # secure_delete zeroes deleted rows, so a purge leaves no personal data behind.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA secure_delete=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "MATCHING_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" + (",testserver" if os.environ.get("PYTEST_VERSION") else "")
    ).split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "matching.casework",
    "matching.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "matching.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "matching.web.middleware.SessionTimeoutMiddleware",
    "matching.web.middleware.PasswordChangeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "matching.web.urls"
WSGI_APPLICATION = "matching.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "matching.web.context.navigation",
            ],
        },
    }
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Lockout: five failed sign-ins lock the username for 15 minutes, wherever they come from.
# Not by IP address (axes.W006): a council's staff reach the app through one NAT or proxy
# address, so one person's typos would lock out the whole office.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
# But one address guessing many usernames (password spraying) is stopped at this many failed
# sign-ins within the cool-off time, far above an office's typos (views.auth.SignIn).
ADDRESS_FAILURE_LIMIT = int(os.environ.get("MATCHING_ADDRESS_FAILURE_LIMIT", "50"))
AXES_VERBOSE = False
# axes keeps a failed attempt's form in its records, masking these: the change-password form's
# fields too (its wrong current password counts as a failed sign-in), never a password as typed.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "old_password", "new_password1", "new_password2"]

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:queue"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "/static/"
# Committed assets are served from the app's static folders directly (WhiteNoise with
# finders), so no collectstatic step is needed before `matching serve`; a deployment that
# prefers collected, compressed files sets MATCHING_STATIC_ROOT and runs collectstatic.
STATIC_ROOT = os.environ.get("MATCHING_STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Sessions and cookies: HttpOnly always, SameSite always, Secure when served over HTTPS.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Signed out after this long without a request (MATCHING_IDLE_MINUTES), and this long after
# signing in, however busy (SessionTimeoutMiddleware).
SESSION_IDLE_SECONDS = int(os.environ.get("MATCHING_IDLE_MINUTES", "30")) * 60
SESSION_ABSOLUTE_SECONDS = SESSION_COOKIE_AGE
CSRF_COOKIE_HTTPONLY = True
# Lax, as the session's: a Strict cookie is not sent when a link from elsewhere (an e-mail)
# opens the app, so Django makes a new token, and every form in the tabs already open (a
# note, an outcome, the queue's filters) then fails its CSRF check. A cross-site POST still
# carries neither cookie, and no form is accepted without its token.
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "matching.web.views.errors.csrf_failure"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:  # bound to this host, never set by a sibling domain (ASVS 3.4.4)
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: everything from this origin only; no inline script or style.
# Nothing the review app does needs the browser's devices or sensors.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), fullscreen=(self)"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# Protective marking printed on every page and every export.
PROTECTIVE_MARKING = os.environ.get("MATCHING_PROTECTIVE_MARKING", "OFFICIAL-SENSITIVE")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING"},
        "axes": {"handlers": ["console"], "level": "WARNING"},
    },
}
