"""Settings, read once from environment variables (TAIZHANG_*)."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("TAIZHANG_DATA_DIR", BASE_DIR / "var"))

DEBUG = os.environ.get("TAIZHANG_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("TAIZHANG_SECRET_KEY", "dev-only-insecure-key-change-me")
ALLOWED_HOSTS = os.environ.get("TAIZHANG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "taizhang.core",
    "taizhang.campaigns",
    "taizhang.accounts",
    "taizhang.ledger",
    "taizhang.remediation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app process itself (gunicorn alone serves a working site);
    # from STATIC_ROOT after `collectstatic`, straight from the sources when DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "taizhang.core.middleware.RequestIdMiddleware",
    # Last, so that a locked-out login answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "taizhang.urls"
WSGI_APPLICATION = "taizhang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "taizhang" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "taizhang.ledger.context_processors.campaigns",
            ],
        },
    },
]


def _database(url):
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE + WAL: concurrent writers queue instead of failing with
        # "database is locked" (measured in docs/platform-notes).
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
        # A file, not memory, so that tests can race real processes against one database.
        config["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / ("taizhang-test-%d.sqlite3" % os.getpid()))}
    return config


DATABASES = {
    "default": _database(
        os.environ.get("TAIZHANG_DATABASE_URL", "sqlite:///" + str(DATA_DIR / "taizhang.sqlite3"))
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Repeated failed logins lock the account (by username) for a while.
AXES_FAILURE_LIMIT = int(os.environ.get("TAIZHANG_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("TAIZHANG_LOGIN_LOCK_MINUTES", "15")))
# Per account, as users expect; per address would lock out a whole street office
# working behind one NAT, hence the silenced axes.W006.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "taizhang" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic also writes gzip copies, which WhiteNoise serves to browsers that take them.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Front-end packages come from the npm registry at set-up (package.json) and are
# served from node_modules: no CDN at run time.
STATICFILES_DIRS = [
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
    BASE_DIR / "taizhang" / "static",
]
MEDIA_ROOT = DATA_DIR / "media"

# Imports: uploads are capped by size and by row count.
TAIZHANG_IMPORT_MAX_BYTES = int(os.environ.get("TAIZHANG_IMPORT_MAX_BYTES", 20 * 1024 * 1024))
TAIZHANG_IMPORT_MAX_ROWS = int(os.environ.get("TAIZHANG_IMPORT_MAX_ROWS", 100_000))
# What a workbook may ask of its reader, checked before calamine sees it (ledger/workbook_checks.py).
# The defaults follow the row cap: room for title, header, totals and blank rows; 40 columns a
# row on average over the sheet's block (the ledger has 23); 2 KB of XML a row (an export: 1.2 KB).
TAIZHANG_IMPORT_MAX_SHEET_ROWS = int(os.environ.get("TAIZHANG_IMPORT_MAX_SHEET_ROWS",
                                                    TAIZHANG_IMPORT_MAX_ROWS + 1_000))
TAIZHANG_IMPORT_MAX_COLUMNS = int(os.environ.get("TAIZHANG_IMPORT_MAX_COLUMNS", 200))
TAIZHANG_IMPORT_MAX_CELLS = int(os.environ.get("TAIZHANG_IMPORT_MAX_CELLS", TAIZHANG_IMPORT_MAX_SHEET_ROWS * 40))
TAIZHANG_IMPORT_MAX_UNCOMPRESSED = int(os.environ.get("TAIZHANG_IMPORT_MAX_UNCOMPRESSED",
                                                      TAIZHANG_IMPORT_MAX_SHEET_ROWS * 2_000))
TAIZHANG_IMPORT_MAX_RATIO = int(os.environ.get("TAIZHANG_IMPORT_MAX_RATIO", 200))
TAIZHANG_IMPORT_MAX_PARTS = int(os.environ.get("TAIZHANG_IMPORT_MAX_PARTS", 1_000))
# 1 runs calamine in a child process under a memory limit, so that no parser failure at all
# can end the web process; the default, 0, reads in process behind the checks, which bound
# what calamine allocates: the child cost more than the 10 % an import may lose
# (docs/benchmarks.md, "Upload guards").
TAIZHANG_IMPORT_READER_CHILD = os.environ.get("TAIZHANG_IMPORT_READER_CHILD", "0") == "1"
# The child process that runs calamine: its address-space limit (bytes) and time limit.
TAIZHANG_IMPORT_READER_MEMORY = int(os.environ.get("TAIZHANG_IMPORT_READER_MEMORY", 2 * 10**9))
TAIZHANG_IMPORT_READER_SECONDS = int(os.environ.get("TAIZHANG_IMPORT_READER_SECONDS", 120))
# Photos from the field: checked by content (JPEG, PNG, HEIC), capped in size.
TAIZHANG_PHOTO_MAX_BYTES = int(os.environ.get("TAIZHANG_PHOTO_MAX_BYTES", 12 * 1024 * 1024))
# A request's body apart from its files (forms, fields) is capped at 2 MB; files above 2 MB
# stream to a temporary file on disk instead of memory, and each is refused by its declared
# size before it is read (an import past TAIZHANG_IMPORT_MAX_BYTES, a photo past the photo cap).
# The proxy in front caps the whole body (docs: client_max_body_size), a little over the import cap.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Photos per form: a verification or acceptance takes a handful, never hundreds.
DATA_UPLOAD_MAX_NUMBER_FILES = int(os.environ.get("TAIZHANG_UPLOAD_MAX_FILES", 20))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"taizhang": {"handlers": ["console"], "level": "INFO"}},
}

LANGUAGE_COOKIE_NAME = "taizhang_language"
