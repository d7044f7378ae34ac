"""Settings for the tracks service, read from the environment.

DATABASE_URL  database (default: SQLite file db.sqlite3 beside manage.py)
SECRET_KEY    required unless DEBUG is on
DEBUG         "1"/"true" turns on debug mode (default off)
ALLOWED_HOSTS comma-separated host names (default: localhost names when DEBUG)
MEDIA_ROOT    where uploaded files are stored (default: ./media)
ENV_FILE      a KEY=VALUE file read first (default: .env beside manage.py; empty: none)

Development keeps its settings in ``.env`` (written by ``scripts/run``, git-ignored), so
that ``manage.py`` commands run by hand see the same DEBUG and SECRET_KEY as the server.
Variables set in the real environment win over the file.
"""

import os
import re
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def read_env_file(path):
    """Put the file's ``KEY=VALUE`` lines into os.environ, unless a variable is already set.

    The dotenv subset ``scripts/run`` writes: blank lines and ``#`` comments are skipped,
    ``export`` prefixes and matching quotes around a value are dropped, nothing is expanded.
    """
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier():
            raise ImproperlyConfigured(f"{path}, line {number}: expected KEY=VALUE.")
        if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        os.environ.setdefault(name, value)


ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    read_env_file(Path(ENV_FILE))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_rate(name, default):
    """A DRF rate such as ``120/min`` (per s, min, hour or day); empty: None (no limit)."""
    value = os.environ.get(name, default).strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must be a rate like 120/min, or empty for none.")
    return value


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-insecure-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "config",
    "organizations",
    "products",
    "tracks",
    "collections_app",  # before django_tasks_db: its db_worker command adds recovery
    "webhooks",
    "soundcheck",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "config.jsonapi.middleware.RequestIdMiddleware",
    # Second, so that every answer from below is seen: JSON:API errors and Vary under /api/.
    "config.jsonapi.middleware.ApiResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
CSRF_FAILURE_VIEW = "config.jsonapi.views.csrf_failure"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
PREPARE_THRESHOLD = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5").strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PREPARE_THRESHOLD:
    # Parameters bound by the server, and a statement a connection has run this many times
    # prepared (psycopg's prepare_threshold): PostgreSQL then stops planning the queries
    # every request repeats (the token, the COUNT, the page), which costs more than running
    # them. Empty turns both off, for a pooler that cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=int(PREPARE_THRESHOLD)
    )
# The database cache uses the same database over a connection of its own (config/cache.py
# says why); one settings dict for both, so that tests point both at the test database.
# Not on SQLite: its commit would wait for the read lock of the request's own transaction.
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["cache"] = DATABASES["default"]
else:
    # The server and the background worker write to one file: a transaction takes the write
    # lock when it begins and waits for it, instead of failing at its first write.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # Tests get a file too, not Django's shared in-memory database, whose table locks fail
    # concurrent requests of live-server tests at once ("database table is locked") where
    # a file's locks make them wait, as they do when the service runs.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"tracks-test-{os.getpid()}.sqlite3")
    }
DATABASE_ROUTERS = ["config.cache.CacheRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every worker process: throttle counts live here. Redis when REDIS_URL is set
# (redis://host:6379/0), else the database (table created by the config app's migration).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.DatabaseCache",
            "LOCATION": "django_cache",  # the table of config.CacheEntry
            # Culling starts past MAX_ENTRIES: counters in use must not be culled.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# Several services or environments can share one Redis under different prefixes.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "tracks")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    # Files saved by a write that rolls back are deleted with it (config/storage.py).
    "default": {"BACKEND": "config.storage.FileSystemStorage"},
    # Hashed, compressed files served by WhiteNoise (run `collectstatic` at deploy).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# Signed upload targets (config/uploads.py): how long a target is valid, the largest file.
UPLOAD_TTL_SECONDS = int(os.environ.get("UPLOAD_TTL_SECONDS", "3600"))
# Atomic Operations (config/jsonapi/operations.py): the most operations one request holds.
ATOMIC_MAX_OPERATIONS = int(os.environ.get("ATOMIC_MAX_OPERATIONS", "100"))
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(2 * 1024**3)))
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# Play sessions' signed media URLs (collections_app/playback.py): how long they are valid.
MEDIA_URL_TTL_SECONDS = int(os.environ.get("MEDIA_URL_TTL_SECONDS", "3600"))

# Background tasks (django-tasks): the database backend, run by `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A collection track's processing run beats every quarter of this; one silent for this long
# lost its worker and is retried, up to PROCESSING_MAX_ATTEMPTS runs, then marked "error".
PROCESSING_TIMEOUT_SECONDS = float(os.environ.get("PROCESSING_TIMEOUT_SECONDS", "120"))
PROCESSING_MAX_ATTEMPTS = int(os.environ.get("PROCESSING_MAX_ATTEMPTS", "3"))

# Webhooks (webhooks/): hosts deliveries may reach although they are not public (and over
# http), the timeout of each socket operation, attempts per message and the delays between
# them (seconds; the last repeats), and the base of the links in a message's data.
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "6"))
WEBHOOK_RETRY_DELAYS = [int(s) for s in env_list("WEBHOOK_RETRY_DELAYS", "5,30,120,600,3600")]
WEBHOOK_BASE_URL = os.environ.get("WEBHOOK_BASE_URL", "")

# Master audio records (tracks.Record).
RECORD_MAX_BYTES = int(os.environ.get("RECORD_MAX_BYTES", str(2 * 1024**3)))
# Hosts the server may fetch `original-url` from; empty turns the feature off.
RECORD_SOURCE_HOSTS = env_list("RECORD_SOURCE_HOSTS")
RECORD_FETCH_TIMEOUT = float(os.environ.get("RECORD_FETCH_TIMEOUT", "30"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["config.permissions.ScopedModelPermissions"],
    "DEFAULT_PARSER_CLASSES": ["config.jsonapi.parsers.JsonApiParser"],
    "DEFAULT_RENDERER_CLASSES": ["config.jsonapi.renderers.JsonApiRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.jsonapi.negotiation.JsonApiContentNegotiation",
    "EXCEPTION_HANDLER": "config.jsonapi.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.jsonapi.pagination.JsonApiPagination",
    "DEFAULT_FILTER_BACKENDS": [],
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "config.jsonapi.openapi.JsonApiAutoSchema",
    # Per user (per client IP without a token); "heavy" only for a view's heavy_actions.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.jsonapi.throttling.BurstRateThrottle",
        "config.jsonapi.throttling.SustainedRateThrottle",
        "config.jsonapi.throttling.HeavyRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "burst": env_rate("API_THROTTLE_BURST", "120/min"),
        "sustained": env_rate("API_THROTTLE_SUSTAINED", "10000/day"),
        "heavy": env_rate("API_THROTTLE_HEAVY", "30/min"),
    },
    # Proxies in front of the service that append to X-Forwarded-For: 0 trusts none and
    # throttles by the connecting address (a client cannot choose its own throttle key).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}

# Browser clients: only the listed origins (none by default), only for the API and OAuth.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(api|oauth)/"
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "x-organization", "x-request-id"]
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Location"]

SPECTACULAR_SETTINGS = {
    "TITLE": "Tracks service API",
    "DESCRIPTION": "JSON:API 1.1 service for music and audio tracks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAS_VERSION": "3.0.3",
    "POSTPROCESSING_HOOKS": ["config.jsonapi.openapi.link_created_resources"],
    "COMPONENT_SPLIT_PATCH": False,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
}

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read the catalog", "write": "Create, change and delete resources"},
    "DEFAULT_SCOPES": ["read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("ACCESS_TOKEN_EXPIRE_SECONDS", "3600")),
    "OAUTH2_BACKEND_CLASS": "config.authentication.OAuthLibCore",
    "OAUTH2_VALIDATOR_CLASS": "config.authentication.OAuth2Validator",
}
# How long a worker may keep a Bearer token's row instead of reading it again; changes
# made through Django still apply at once (config/token_cache.py). 0 reads every time.
TOKEN_CACHE_SECONDS = int(os.environ.get("TOKEN_CACHE_SECONDS", "0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.jsonapi.middleware.RequestIdLogFilter"}},
    "formatters": {
        "request": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "request",
        },
    },
    "loggers": {
        "tracks.requests": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
