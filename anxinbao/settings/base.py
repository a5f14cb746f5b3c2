"""Settings shared by every environment, configured from environment variables.

Without DATABASE_URL the application runs on SQLite; without REDIS_URL (or
CELERY_BROKER_URL) Celery runs tasks eagerly in the web process.
"""
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-anxinbao-key")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "pgtrigger",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "core",
    "escrow",
    "projects",
    "subsidies",
    "reports",
    "dashboards",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.once.OnceMiddleware",
]

ROOT_URLCONF = "anxinbao.urls"
WSGI_APPLICATION = "anxinbao.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.navigation",
            ],
            "builtins": ["core.templatetags.money"],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Seconds a database connection is kept between requests and tasks (0: one per request). Production
# keeps them (production.py); health checks drop a connection the server has closed.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True


def sqlite_options() -> dict:
    """SQLite for a small office: several people at once without "database is locked".

    Every transaction takes the write lock when it begins (IMMEDIATE), so two money steps queue instead of one
    failing when it upgrades a read lock; a writer waits up to 20 s for the lock (busy timeout); WAL lets pages
    read while a step writes.
    """
    return {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("ANXINBAO_SQLITE_TIMEOUT", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**sqlite_options(), **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.security.UsernameThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# django-axes: five failures lock the username+IP pair for 15 minutes (docs/operations.md, "Login lockout").
# The pair, never the username alone: a stranger's failures lock the stranger's address, not the account.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# A duration, not money, but whole minutes all the same: no float reaches the lock (axes takes a timedelta).
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))  # the lock ends by itself
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind a reverse proxy every request comes from the proxy's address: the client's address is read from
# X-Forwarded-For, trusting exactly the number of proxies in front of the application (core.security.client_ip).
ANXINBAO_TRUSTED_PROXIES = env.int("ANXINBAO_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"
# Failures of one username over every address, within the cool-off, after which its sign-ins wait for the
# cool-off to pass (core.security.UsernameThrottleBackend): a guesser moving between addresses is held back.
ANXINBAO_USERNAME_FAILURE_LIMIT = env.int("ANXINBAO_USERNAME_FAILURE_LIMIT", default=20)
AXES_LOCKOUT_TEMPLATE = "core/locked.html"
AXES_RESET_ON_SUCCESS = True

# Second factor (core/second_factor.py): custodian operators, reviewers, the pool manager and finance officers
# sign in with a TOTP code too. On in production (settings/production.py), off by default for local, demo and tests.
ANXINBAO_REQUIRE_2FA = env.bool("ANXINBAO_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = "Anxinbao"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files live outside the web root and are served only through views
# that check permissions (never by the static file server).
MEDIA_ROOT = Path(env("ANXINBAO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
PRIVATE_MEDIA_ROOT = MEDIA_ROOT
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# The Anxinbao account at the custodian bank that enterprises pay deposits and balances into, as the bank
# opened it; the payment instructions print it. Unset, the pages say it is not configured yet: a number
# is never guessed.
ANXINBAO_CUSTODY_ACCOUNT = {
    "name": env("ANXINBAO_CUSTODY_ACCOUNT_NAME", default="科创安心宝监管账户"),
    "bank": env("ANXINBAO_CUSTODY_BANK", default=""),
    "number": env("ANXINBAO_CUSTODY_ACCOUNT_NUMBER", default=""),
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="anxinbao@localhost")

# Ledger (escrow/services/ledger.py): on PostgreSQL an entry is posted by one call of the
# anxinbao_post_entry function (migration escrow 0004); false keeps the Python path there too.
ANXINBAO_LEDGER_SQL = env.bool("ANXINBAO_LEDGER_SQL", default=True)

# Reports (reports/annual.py): projects per separately rendered part of a large report.
REPORTS_CHUNK_SIZE = env.int("ANXINBAO_REPORTS_CHUNK_SIZE", default=50)
# Parts rendered at once (0: one per core), and parts a rendering process renders before it is replaced.
REPORTS_WORKERS = env.int("ANXINBAO_REPORTS_WORKERS", default=0)
REPORTS_PARTS_PER_CHILD = env.int("ANXINBAO_REPORTS_PARTS_PER_CHILD", default=8)

# Cache: Redis (Django's own RedisCache) when ANXINBAO_CACHE_URL or REDIS_URL is set, this process's memory
# otherwise. Only a cache every process shares holds what other requests may change (sessions, each user's
# roles and unread-notice count, core/caching.py): with memory alone those are read from the database.
CACHE_URL = env("ANXINBAO_CACHE_URL", default="") or env("REDIS_URL", default="")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": "anx"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "anxinbao"}}
ANXINBAO_SHARED_CACHE = bool(CACHE_URL)

from .api import *  # noqa: E402,F401,F403
from .celery import *  # noqa: E402,F401,F403
from .logging import *  # noqa: E402,F401,F403
from .security import *  # noqa: E402,F401,F403

# SQLite cannot enforce NULLS NOT DISTINCT; PostgreSQL (production) does, and
# the expert-drawing service checks the same rule in code.
SILENCED_SYSTEM_CHECKS = ["models.W047"]
