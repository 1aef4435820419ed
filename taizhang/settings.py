"""Settings, read once from environment variables (TAIZHANG_*).

`TAIZHANG_DEBUG=0` is the production profile: a secret key of its own is required,
cookies are secure, HTTPS is enforced (HSTS, redirect) and the Content-Security-Policy
is enforced rather than only reported. docs/deploy.md walks through it.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("TAIZHANG_DATA_DIR", BASE_DIR / "var"))

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in _TRUE | _FALSE:
        # A typo must not silently pick a profile.
        raise ImproperlyConfigured("%s=%r: use 1 or 0." % (name, value))
    return value in _TRUE


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _flag("TAIZHANG_DEBUG", True)

# Public, in the source: good for a laptop, never for a server.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY_HELP = (
    "With TAIZHANG_DEBUG=0 Taizhang needs a secret key of its own: set TAIZHANG_SECRET_KEY, or "
    "TAIZHANG_SECRET_KEY_FILE to a file holding one (make one with "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), and keep it across releases "
    "(it signs sessions and password-reset links)."
)


def _secret_key() -> str:
    key, path = os.environ.get("TAIZHANG_SECRET_KEY", ""), os.environ.get("TAIZHANG_SECRET_KEY_FILE", "")
    if key and path:
        raise ImproperlyConfigured("Set TAIZHANG_SECRET_KEY or TAIZHANG_SECRET_KEY_FILE, not both.")
    if path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured("TAIZHANG_SECRET_KEY_FILE: %s" % error) from error
    if DEBUG:
        return key or DEV_SECRET_KEY
    # Refused here, at settings load, rather than in a system check: gunicorn runs no
    # checks, and every command (migrate, collectstatic, import_ledger) must refuse too.
    if not key or key == DEV_SECRET_KEY:
        raise ImproperlyConfigured(SECRET_KEY_HELP)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = _list("TAIZHANG_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: `runserver` then leaves /static/ to WhiteNoise, as in production,
    # instead of Django's static handler, which answers an encoded ".." with a server error.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    # The task queue in the database, run by `manage.py run_worker` (core/management).
    "django_tasks_db",
    "taizhang.core",
    "taizhang.campaigns",
    "taizhang.accounts",
    "taizhang.ledger",
    "taizhang.remediation",
    "taizhang.supervision",
    "taizhang.command",
    "taizhang.assessment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app process itself (gunicorn alone serves a working site);
    # from STATIC_ROOT after `collectstatic`, straight from the sources when DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After a password reset, the first login sets a new password before anything else.
    "taizhang.accounts.middleware.PasswordChangeRequiredMiddleware",
    "taizhang.core.middleware.RequestIdMiddleware",
    # Any refusal a view did not catch, or a database still busy after retries: a message, not a 500.
    "taizhang.core.middleware.RefusalMiddleware",
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
                "django.template.context_processors.csp",
                "taizhang.ledger.context_processors.campaigns",
                "taizhang.accounts.context_processors.lockout",
                "taizhang.accounts.context_processors.user_management",
                "taizhang.command.context_processors.command",
                "taizhang.core.context_processors.notifications",
            ],
        },
    },
]


def _database(url):
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE + WAL: concurrent writers queue instead of failing with
        # "database is locked" (tried on these machines: four writers, 200 increments each).
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
# Django's four: checked by every password set through the accounts' services (created, reset, changed).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Repeated failed logins lock an account from the address they came from, for a while:
# a wrong password typed five times from elsewhere does not lock its owner out (and a
# whole street office behind one NAT is not locked out by one person). The HQ office
# unlocks an account at /accounts/locked/.
AXES_FAILURE_LIMIT = int(os.environ.get("TAIZHANG_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("TAIZHANG_LOGIN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "taizhang.accounts.lockout.client_ip"
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
# Larger packages file by file (taizhang.core.staticfinders): {static path: file}.
_NODE = BASE_DIR / "node_modules"
VENDOR_FILES = {
    "vendor/echarts/echarts.min.js": _NODE / "echarts" / "dist" / "echarts.min.js",
    "vendor/leaflet/leaflet.js": _NODE / "leaflet" / "dist" / "leaflet.js",
    "vendor/leaflet/leaflet.css": _NODE / "leaflet" / "dist" / "leaflet.css",
    "vendor/leaflet/images/marker-icon.png": _NODE / "leaflet" / "dist" / "images" / "marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png": _NODE / "leaflet" / "dist" / "images" / "marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png": _NODE / "leaflet" / "dist" / "images" / "marker-shadow.png",
    "vendor/leaflet/images/layers.png": _NODE / "leaflet" / "dist" / "images" / "layers.png",
    "vendor/markercluster/leaflet.markercluster.js":
        _NODE / "leaflet.markercluster" / "dist" / "leaflet.markercluster.js",
    "vendor/markercluster/MarkerCluster.css": _NODE / "leaflet.markercluster" / "dist" / "MarkerCluster.css",
    "vendor/markercluster/MarkerCluster.Default.css":
        _NODE / "leaflet.markercluster" / "dist" / "MarkerCluster.Default.css",
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "taizhang.core.staticfinders.VendorFileFinder",
]
# Photos from the field. With several hosts this folder is shared (NFS, a mounted volume):
# any app process may be asked for a photo another one stored.
MEDIA_ROOT = Path(os.environ.get("TAIZHANG_MEDIA_DIR", DATA_DIR / "media"))

# Imports: uploads are capped by size and by row count.
TAIZHANG_IMPORT_MAX_BYTES = int(os.environ.get("TAIZHANG_IMPORT_MAX_BYTES", 20 * 1024 * 1024))
TAIZHANG_IMPORT_MAX_ROWS = int(os.environ.get("TAIZHANG_IMPORT_MAX_ROWS", 100_000))
# What a workbook may ask of its reader, checked before calamine sees it (core/workbook_checks.py).
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
TAIZHANG_IMPORT_READER_CHILD = _flag("TAIZHANG_IMPORT_READER_CHILD", False)
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

# Behind a proxy (nginx terminating TLS): how many proxies stand in front of the app.
# Only then are X-Forwarded-Proto (is the request HTTPS?) and X-Forwarded-For (the
# client's address, for the login lockout) believed; a client reaching the app directly
# could write them itself.
TAIZHANG_BEHIND_PROXY = int(os.environ.get("TAIZHANG_BEHIND_PROXY", "0"))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TAIZHANG_BEHIND_PROXY else None
# Origins that may post forms besides the site itself, e.g. https://taizhang.example.gov.cn
# when the proxy does not pass the Host header on.
CSRF_TRUSTED_ORIGINS = _list("TAIZHANG_CSRF_TRUSTED_ORIGINS")

# HTTPS, in the production profile. TAIZHANG_HTTPS=0 is for a plain-HTTP intranet only:
# browsers drop secure cookies over HTTP, so login would fail there otherwise.
HTTPS = not DEBUG and _flag("TAIZHANG_HTTPS", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and _flag("TAIZHANG_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("TAIZHANG_HSTS_SECONDS", 365 * 24 * 3600)) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("TAIZHANG_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _flag("TAIZHANG_HSTS_PRELOAD", False)
# Preloading is a request the domain's owner makes to the browser makers, for the whole
# registered domain; sending the flag is a choice, not a missing setting.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Everything comes from the site itself (no CDN, no inline code); the one inline script
# or style a page may need carries the request's nonce ({{ csp_nonce }}). Pico's icons are
# data: SVGs in its stylesheet. Enforced in production; with DEBUG only reported (in the
# browser's console), so that Django's debug pages keep their inline styles.
TAIZHANG_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# The map's base layer (/command/map/): none by default, and the map works offline without
# one. TAIZHANG_MAP_TILES is one or more tile URL templates ({z}/{x}/{y}, {s} for a
# subdomain), separated by spaces and drawn in that order (天地图: its vec_w and cva_w
# layers, with the key in each); TAIZHANG_MAP_SYSTEM the coordinate system its tiles are
# drawn in: wgs84 (天地图, OpenStreetMap-style servers) or gcj02 (高德, 腾讯). The README says how.
TAIZHANG_MAP_TILES = os.environ.get("TAIZHANG_MAP_TILES", "").split()
TAIZHANG_MAP_ATTRIBUTION = os.environ.get("TAIZHANG_MAP_ATTRIBUTION", "")
TAIZHANG_MAP_SUBDOMAINS = os.environ.get("TAIZHANG_MAP_SUBDOMAINS", "abc")
TAIZHANG_MAP_MAX_ZOOM = int(os.environ.get("TAIZHANG_MAP_MAX_ZOOM", "18"))
TAIZHANG_MAP_SYSTEM = os.environ.get("TAIZHANG_MAP_SYSTEM", "wgs84").strip().lower()
if TAIZHANG_MAP_SYSTEM not in ("wgs84", "gcj02"):
    # BD-09 tiles (百度) use a projection of their own, which the map does not draw.
    raise ImproperlyConfigured("TAIZHANG_MAP_SYSTEM=%r: use wgs84 or gcj02." % TAIZHANG_MAP_SYSTEM)


def tile_sources(templates: list[str]) -> list[str]:
    """What img-src must allow for these tile URL templates: each one's scheme and host (a
    {s} subdomain as a wildcard); a path on the site itself needs nothing."""
    sources = []
    for template in templates:
        if template.startswith("/") and not template.startswith("//"):
            continue
        scheme, _sep, rest = template.partition("://")
        host = rest.split("/", 1)[0]
        labels = host.split(".")
        if "{s}" in labels[0]:
            labels[0] = "*"
        host = ".".join(labels)
        if scheme not in ("http", "https") or not host or "{" in host or "@" in host:
            raise ImproperlyConfigured(
                "TAIZHANG_MAP_TILES: %r is not an http(s) URL template with a host (a {s} subdomain only in "
                "the host's first label) or a path on this site." % template)
        if scheme + "://" + host not in sources:
            sources.append(scheme + "://" + host)
    return sources


# The tiles' hosts only when tiles are configured: otherwise images come from the site alone.
TAIZHANG_CSP["img-src"] += tile_sources(TAIZHANG_MAP_TILES)
SECURE_CSP = {} if DEBUG else TAIZHANG_CSP
SECURE_CSP_REPORT_ONLY = TAIZHANG_CSP if DEBUG else {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"taizhang": {"handlers": ["console"], "level": "INFO"}},
}

LANGUAGE_COOKIE_NAME = "taizhang_language"

# Background work: tasks are queued in the database and run by `manage.py run_worker`, which
# also starts each sweep (core/sweeps.py) when it is due. `make run` starts it beside the
# web server; production runs it as a process of its own (docs/deploy.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# E-mail for the notifications users choose to receive by mail (Django 6.1's MAILERS). With no
# TAIZHANG_EMAIL_HOST, development prints the mails (the console backend) instead of sending
# them, and production hands them to the host's own mail server (localhost:25); a mail that
# cannot be sent fails, visibly, on the office's page.
_EMAIL_HOST = os.environ.get("TAIZHANG_EMAIL_HOST", "")
_EMAIL_STARTTLS, _EMAIL_SSL = _flag("TAIZHANG_EMAIL_STARTTLS", False), _flag("TAIZHANG_EMAIL_SSL", False)
if _EMAIL_STARTTLS and _EMAIL_SSL:
    raise ImproperlyConfigured("Set TAIZHANG_EMAIL_STARTTLS or TAIZHANG_EMAIL_SSL, not both.")
if DEBUG and not _EMAIL_HOST:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": _EMAIL_HOST or "localhost", "port": int(os.environ.get("TAIZHANG_EMAIL_PORT", "25")),
        "username": os.environ.get("TAIZHANG_EMAIL_USER", ""),
        "password": os.environ.get("TAIZHANG_EMAIL_PASSWORD", ""),
        "use_tls": _EMAIL_STARTTLS, "use_ssl": _EMAIL_SSL,
        # A mail server that does not answer must not hold the worker.
        "timeout": int(os.environ.get("TAIZHANG_EMAIL_TIMEOUT", "20")),
    }}}
DEFAULT_FROM_EMAIL = os.environ.get("TAIZHANG_EMAIL_FROM", "taizhang@localhost")
# Where the site is seen from outside (https://taizhang.example.gov.cn): e-mails and group
# chat messages link back to it. Without it they carry the path alone.
TAIZHANG_SITE_URL = os.environ.get("TAIZHANG_SITE_URL", "").rstrip("/")

# The change log's key (core/keys.py): from the environment, or a file outside the database.
# Development makes the file on first use; production must be given one.
TAIZHANG_CHAIN_KEY = os.environ.get("TAIZHANG_CHAIN_KEY", "")
TAIZHANG_CHAIN_KEY_FILE = Path(os.environ.get("TAIZHANG_CHAIN_KEY_FILE", DATA_DIR / "chain.key"))
TAIZHANG_CHAIN_KEY_CREATE = DEBUG
if not DEBUG and not TAIZHANG_CHAIN_KEY and not TAIZHANG_CHAIN_KEY_FILE.is_file():
    # At start-up, like the secret key, rather than at the first write.
    raise ImproperlyConfigured(
        "With TAIZHANG_DEBUG=0 the change log needs its key: set TAIZHANG_CHAIN_KEY, or put one in %s "
        "(TAIZHANG_CHAIN_KEY_FILE); make one with `python -c 'import secrets; print(secrets.token_hex(32))'` "
        "and keep a copy apart from the database's backups." % TAIZHANG_CHAIN_KEY_FILE)
