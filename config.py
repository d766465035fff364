"""Configuration read from the environment, with embedded defaults for a laptop."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("FRONTDESK_INSTANCE", BASE_DIR / "instance"))

DEV_PLACEHOLDER = "dev-insecure-change-me"


def database_url(value: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean flag so that 1/true/yes/on all mean yes."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_key(name: str, factory) -> str:
    """Generate a development key into instance/ once, so restarts keep sessions and secrets readable."""
    path = INSTANCE_DIR / f"{name.lower()}.key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = factory()
    path.write_text(value)
    path.chmod(0o600)
    return value


def _fernet_key() -> str:
    """Make a Fernet key without importing cryptography at config time."""
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


class Config:
    """Settings shared by every environment; each can be overridden by an environment variable."""

    ENV_NAME = "base"
    INSTANCE_PATH = str(INSTANCE_DIR)  # the Flask instance folder: FRONTDESK_INSTANCE, else ./instance
    SECRET_KEY = os.environ.get("SECRET_KEY")
    ENCRYPTION_KEY = os.environ.get("ENCRYPTION_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'frontdesk.db'}"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")

    SESSION_COOKIE_NAME = "frontdesk_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    SESSION_PERMANENT = True
    SESSION_USE_SIGNER = False
    SESSION_SQLALCHEMY_TABLE = "sessions"
    SESSION_CLEANUP_N_REQUESTS = 1000
    # The device registry enforces the admin's idle and absolute timeouts server-side, so the stored session is not
    # rewritten on every request just to push its expiry (one Redis or database write per page view), and the store
    # keeps it for the longest absolute lifetime an admin can choose (72 hours).
    SESSION_REFRESH_EACH_REQUEST = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=72)
    # A visitor who has not signed in (a CSRF token, a pending Microsoft sign-in) is kept only this long.
    SESSION_ANONYMOUS_MINUTES = int(os.environ.get("SESSION_ANONYMOUS_MINUTES", "20"))
    # Policy values are read on every request; each process keeps them this long (0: always read).
    POLICY_CACHE_SECONDS = int(os.environ.get("POLICY_CACHE_SECONDS", "5"))
    # A Server-Timing header with the time a response waited on Microsoft (off by default; the benchmark turns it on
    # to tell the portal's own share of a sign-in from Microsoft's).
    SERVER_TIMING = _env_bool("SERVER_TIMING", False)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the server-side session
    RATELIMIT_HEADERS_ENABLED = True
    # If Redis (the limiter's store) goes away, count in process memory meanwhile rather than fail requests.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_ADMIN_LOGIN = os.environ.get("RATELIMIT_ADMIN_LOGIN", "20 per minute")
    RATELIMIT_SIGN_IN_PAGES = os.environ.get("RATELIMIT_SIGN_IN_PAGES", "60 per minute")  # GET /login, /admin/login
    RATELIMIT_SSO_START = os.environ.get("RATELIMIT_SSO_START", "30 per minute")
    RATELIMIT_SSO_CALLBACK = os.environ.get("RATELIMIT_SSO_CALLBACK", "60 per minute")
    # Failed Microsoft sign-ins per browser (address + session), counting only failures of a real flow: then 429.
    RATELIMIT_SSO_FAILURES = os.environ.get("RATELIMIT_SSO_FAILURES", "20 per 15 minutes")
    RATELIMIT_ASK_IT_IP = os.environ.get("RATELIMIT_ASK_IT_IP", "5 per hour")  # the public "Can't sign in?" form
    RATELIMIT_ASK_IT_EMAIL = os.environ.get("RATELIMIT_ASK_IT_EMAIL", "3 per day")
    RATELIMIT_LIVE_UPDATES = os.environ.get("RATELIMIT_LIVE_UPDATES", "600 per minute")  # Graph's notification POSTs
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    LOG_JSON = _env_bool("LOG_JSON", False)
    AUDIT_ARCHIVE_DIR = os.environ.get("AUDIT_ARCHIVE_DIR")  # default: instance/audit-archive
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "8025"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Frontdesk <frontdesk@localhost>")

    # Microsoft endpoints: unset means the real cloud; the emulator and sovereign clouds override them.
    ENTRA_AUTHORITY_HOST = os.environ.get("ENTRA_AUTHORITY_HOST")
    GRAPH_ENDPOINT = os.environ.get("GRAPH_ENDPOINT")
    ENTRA_CA_BUNDLE = os.environ.get("ENTRA_CA_BUNDLE")

    # Graph retries: exponential backoff with jitter, bounded by attempts and total sleep.
    GRAPH_MAX_ATTEMPTS = int(os.environ.get("GRAPH_MAX_ATTEMPTS", "6"))
    GRAPH_BACKOFF_BASE = float(os.environ.get("GRAPH_BACKOFF_BASE", "0.5"))
    GRAPH_BACKOFF_CAP = float(os.environ.get("GRAPH_BACKOFF_CAP", "30"))
    GRAPH_MAX_TOTAL_SLEEP = float(os.environ.get("GRAPH_MAX_TOTAL_SLEEP", "120"))
    # After queueing a sync the web process starts it in a background "thread", runs it "inline", or
    # leaves it to the scheduler process ("none").
    SYNC_KICK = os.environ.get("SYNC_KICK", "thread")
    ACTION_KICK = os.environ.get("ACTION_KICK", "thread")
    PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:5000/")
    # Live updates: where Microsoft Graph can reach this portal's webhook (https; http only on loopback, for the
    # emulator). Unset means no change notifications: the delta sync alone notices leavers.
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None
    LIVE_UPDATES_KICK = os.environ.get("LIVE_UPDATES_KICK", "thread")  # or "none": only the scheduler processes
    # A burst settles into one delta run: processing waits until nothing new came for the debounce, at most MAX_WAIT.
    LIVE_UPDATES_DEBOUNCE_SECONDS = float(os.environ.get("LIVE_UPDATES_DEBOUNCE_SECONDS", "0.5"))
    LIVE_UPDATES_MAX_WAIT_SECONDS = float(os.environ.get("LIVE_UPDATES_MAX_WAIT_SECONDS", "3"))
    LIVE_UPDATES_MAX_BYTES = int(os.environ.get("LIVE_UPDATES_MAX_BYTES", str(1024 * 1024)))
    LIVE_UPDATES_POLL_FACTOR = int(os.environ.get("LIVE_UPDATES_POLL_FACTOR", "4"))  # slower polling while healthy
    ORGANISATION_NAME = os.environ.get("ORGANISATION_NAME", "your organisation")
    MAIL_ATTEMPTS = int(os.environ.get("MAIL_ATTEMPTS", "3"))
    MAIL_RETRY_BASE = float(os.environ.get("MAIL_RETRY_BASE", "0.5"))

    # Policy defaults; admins change the live values on the Settings page (stored in the database).
    POLICY_DEFAULTS = {
        "lockout_threshold": 5,
        "lockout_window_minutes": 15,
        "lockout_base_minutes": 15,
        "lockout_max_minutes": 24 * 60,
        "session_idle_minutes": 30,
        "session_absolute_hours": 12,
        "session_max_devices": 5,
        "session_limit_mode": "end_oldest",
        "sync_interval_minutes": 60,
        "sync_deactivation_threshold_percent": 10,
        "audit_retention_days": 365,
        "device_history_days": 90,
        "approval_expiry_hours": 72,
        "microsoft_lockout_mode": "count",
        "microsoft_lockout_threshold": 5,
        "microsoft_lockout_window_minutes": 15,
        "microsoft_lockout_seconds": 60,
        "sign_in_history_days": 90,
        "it_notify_email": "",
        # Shown in emails; empty means ORGANISATION_NAME and PORTAL_URL from the environment.
        "organisation_name": "",
        "portal_url": "",
    }


class DevelopmentConfig(Config):
    """The laptop and demo profile: keys are generated into instance/ on first start."""

    ENV_NAME = "development"
    DEBUG = False

    def __init__(self):
        self.SECRET_KEY = self.SECRET_KEY or _dev_key("SECRET_KEY", lambda: secrets.token_urlsafe(48))
        self.ENCRYPTION_KEY = self.ENCRYPTION_KEY or _dev_key("ENCRYPTION_KEY", _fernet_key)


class TestingConfig(Config):
    """Used by the test suite; tests pass overrides for the database and Redis."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
    SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105 (test profile only; production rejects it)
    ENCRYPTION_KEY = _fernet_key()
    RATELIMIT_ADMIN_LOGIN = "1000 per minute"
    RATELIMIT_SIGN_IN_PAGES = "1000 per minute"
    RATELIMIT_SSO_START = "1000 per minute"
    RATELIMIT_SSO_CALLBACK = "1000 per minute"
    RATELIMIT_SSO_FAILURES = "1000 per minute"
    RATELIMIT_ASK_IT_IP = "1000 per minute"
    RATELIMIT_ASK_IT_EMAIL = "1000 per minute"
    GRAPH_BACKOFF_BASE = 0.01
    GRAPH_BACKOFF_CAP = 0.05
    GRAPH_MAX_TOTAL_SLEEP = 5.0
    SYNC_KICK = "inline"
    ACTION_KICK = "inline"
    MAIL_RETRY_BASE = 0.01
    POLICY_CACHE_SECONDS = 0


class ProductionConfig(Config):
    """Real deployments: every secret must come from the environment."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    # __Host-: the browser refuses the cookie unless it is Secure, for this host only and for the whole site.
    SESSION_COOKIE_NAME = os.environ.get("SESSION_COOKIE_NAME", "__Host-frontdesk_session")
    PREFERRED_URL_SCHEME = "https"
    LOG_JSON = _env_bool("LOG_JSON", True)

    def __init__(self):
        missing = [n for n in ("SECRET_KEY", "ENCRYPTION_KEY") if not _strong(getattr(self, n))]
        if not os.environ.get("DATABASE_URL"):
            missing.append("DATABASE_URL")
        if not os.environ.get("PORTAL_URL", "").startswith("https://"):
            missing.append("PORTAL_URL (the https:// address people use; Microsoft redirects back to it)")
        if missing:
            raise RuntimeError(
                "Frontdesk refuses to start in production without these environment variables "
                f"set to real values: {', '.join(missing)}. See README 'Configuration'."
            )


def _strong(value: str | None) -> bool:
    """A production secret must be set, long enough and not a known placeholder."""
    return bool(value) and len(value) >= 32 and DEV_PLACEHOLDER not in value and "testing" not in value


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_from_env():
    """Pick the profile named by FRONTDESK_ENV (development unless told otherwise)."""
    name = os.environ.get("FRONTDESK_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"FRONTDESK_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.")
    return CONFIGS[name]()
