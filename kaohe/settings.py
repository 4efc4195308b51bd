"""Django settings for Kaohe.

Everything that differs between installations comes from the environment through the
typed helpers in kaohe.lib.env, which refuse values they cannot parse. The defaults
run one machine with SQLite and files on disk; DATABASE_URL switches to PostgreSQL.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from kaohe.lib.clientip import parse_trusted_proxies
from kaohe.lib.env import envbool, envint, envlist, envsecret, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("KAOHE_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("KAOHE_DEBUG", False)
# A fixed key is acceptable only for a local demo; a real installation must set its own.
_DEMO_KEY = "insecure-demo-key-do-not-use-in-production"
SECRET_KEY = envsecret("SECRET_KEY", _DEMO_KEY if DEBUG else None)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "kaohe.accounts",
    "kaohe.audit",
    "kaohe.rounds",
    "kaohe.directory",
    "kaohe.evidence",
    "kaohe.submissions",
    "kaohe.reviews",
    "kaohe.launch",
    "kaohe.outcomes",
    "kaohe.grading.apps.GradingConfig",
    "kaohe.dashboard",
    "kaohe.documents",
    "kaohe.demo",
    "kaohe.maintenance",
    "kaohe.notifications",
    "kaohe.api",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kaohe.lib.middleware.RequestSizeLimitMiddleware",
    # A GET reads a repeated answer (the current round, whether results are out) once.
    "kaohe.lib.memo.ReadOnceMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kaohe.lib.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kaohe.audit.middleware.AuditContextMiddleware",
    # After the messages and the audit context: they time sessions out, hold a user on the
    # two-factor pages until a code is given, and send an expired password to be changed.
    "kaohe.accounts.middleware.SessionTimeoutMiddleware",
    "kaohe.accounts.middleware.TwoFactorMiddleware",
    "kaohe.accounts.middleware.PasswordExpiryMiddleware",
    # The round the request works on (?year=, remembered in the session): kaohe.rounds.selection.
    "kaohe.rounds.selection.RoundSelectionMiddleware",
    # Last, as Axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
    # A write refused because its round is closed: a message, not an error page.
    "kaohe.rounds.middleware.RoundClosedMiddleware",
    # One record per act: a form's one-time token is spent before its view runs (issue 17).
    "kaohe.maintenance.once.OnceTokenMiddleware",
    # A view's 404 shows the project's 404 page, also in the DEBUG demo (issue 21).
    "kaohe.lib.middleware.ProjectNotFoundMiddleware",
]

ROOT_URLCONF = "kaohe.urls"
WSGI_APPLICATION = "kaohe.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kaohe" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kaohe.accounts.context_processors.capabilities",
                "kaohe.rounds.context_processors.round_selector",
            ],
            # {% once_token %} in every form that creates something (kaohe.maintenance.once).
            "builtins": ["kaohe.maintenance.templatetags.once"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'kaohe.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
        # A connection kept for the next request (DB_CONN_MAX_AGE) is tried first: after a
        # database restart or failover the request opens a new one instead of failing.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The default database lives in the data directory; create it on first start.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # One host only: WAL lets readers run beside the writer, the busy timeout waits
    # instead of failing, and IMMEDIATE takes the write lock when a transaction starts,
    # so two writers queue instead of deadlocking on lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "kaohe.accounts.validators.ComplexityValidator", "OPTIONS": {"min_classes": 3}},
]

# -- Authentication (security.md 11-13) -------------------------------------------------
# Axes first: a locked-out username + address is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kaohe.accounts.backends.ScopedModelBackend",
]
# Failures are counted in the database, so the lock holds across app servers sharing it.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = envint("KAOHE_LOGIN_FAILURE_LIMIT", 5)
_cooloff_minutes = envint("KAOHE_LOGIN_COOLOFF_MINUTES", 30)
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes)
if AXES_FAILURE_LIMIT < 1 or _cooloff_minutes < 1:
    raise ImproperlyConfigured(
        "KAOHE_LOGIN_FAILURE_LIMIT and KAOHE_LOGIN_COOLOFF_MINUTES must be positive")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "kaohe.accounts.lockout.client_ip"
# The proxies in front of Kaohe (addresses or CIDR networks) whose X-Forwarded-For is
# believed; empty trusts none, and the client is REMOTE_ADDR (kaohe.lib.clientip).
KAOHE_TRUSTED_PROXIES = parse_trusted_proxies(envlist("KAOHE_TRUSTED_PROXIES", []),
                                              name="KAOHE_TRUSTED_PROXIES")
AXES_LOCKOUT_CALLABLE = "kaohe.accounts.views.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "code", "enrolment_code"]
# Sign-ins are in the audit log; Axes keeps only the failure counts.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
# Two factors for the confidential roles (kaohe.accounts.twofactor.TWO_FACTOR_ROLES):
# "required", or "optional" (offered, not forced) for the local demo only.
KAOHE_TWO_FACTOR = envstr("KAOHE_TWO_FACTOR", "required")
if KAOHE_TWO_FACTOR not in ("required", "optional"):
    raise ImproperlyConfigured(
        f"KAOHE_TWO_FACTOR must be 'required' or 'optional', not {KAOHE_TWO_FACTOR!r}")
OTP_TOTP_ISSUER = "定点扶贫考核"
# Hours an enrolment code from the security administrator stays valid (single use).
KAOHE_ENROLMENT_CODE_HOURS = envint("KAOHE_ENROLMENT_CODE_HOURS", 72)
if not 1 <= KAOHE_ENROLMENT_CODE_HOURS <= 24 * 30:
    raise ImproperlyConfigured("KAOHE_ENROLMENT_CODE_HOURS must be between 1 and 720")
# Sessions end after this long without a request, and SESSION_COOKIE_AGE after sign-in.
KAOHE_SESSION_IDLE_MINUTES = envint("KAOHE_SESSION_IDLE_MINUTES", 30)
# Days before a password must be changed; 0 (the default) never forces a change.
KAOHE_PASSWORD_MAX_AGE_DAYS = envint("KAOHE_PASSWORD_MAX_AGE_DAYS", 0)
if KAOHE_SESSION_IDLE_MINUTES < 1 or KAOHE_PASSWORD_MAX_AGE_DAYS < 0:
    raise ImproperlyConfigured(
        "KAOHE_SESSION_IDLE_MINUTES must be positive, KAOHE_PASSWORD_MAX_AGE_DAYS at least 0")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_MAX_AGE_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# -- Security headers (security.md 22) --------------------------------------------------
# HTTPS only, unless DEBUG (the local demo). Behind a proxy that ends TLS, name the header
# it sets as "HTTP_X_FORWARDED_PROTO,https" in SECURE_PROXY_SSL_HEADER, or the redirect to
# HTTPS never ends.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is a decision for the owner of the whole domain, usually an intranet name that
# the browsers' preload list cannot take: off unless the installation asks for it.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
_proxy_header = envlist("SECURE_PROXY_SSL_HEADER", [])
if _proxy_header and len(_proxy_header) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER must be 'HTTP_HEADER_NAME,value', "
        "e.g. HTTP_X_FORWARDED_PROTO,https")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
# No page script reads a cookie: the upload script takes the CSRF token from the page.
CSRF_COOKIE_HTTPONLY = True
# Scripts and styles come from Kaohe's own static files only. An inline <script> needs
# nonce="{{ request.csp_nonce }}"; inline style="" attributes are not allowed (classes in
# kaohe/static/kaohe/kaohe.css instead; scripts may still set element.style).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# security.W021 asks for SECURE_HSTS_PRELOAD, which stays the installation's own choice
# (see above); every other deploy check must pass (tests/security/test_deploy_check.py).
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kaohe" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "kaohe" / "static"]
STORAGES = {
    # Evidence and exports: private files, served only through views that check access.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "files"), "base_url": None},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Several app servers share their files through S3-compatible object storage (MinIO, Ceph,
# a cloud's OSS): name the bucket, and the endpoint unless it is Amazon's. Without keys,
# boto3 looks for credentials as it always does (AWS_* variables, an instance role).
KAOHE_S3_BUCKET = envstr("KAOHE_S3_BUCKET", "")
if KAOHE_S3_BUCKET:
    from kaohe.lib.s3 import storage_settings

    STORAGES["default"] = storage_settings(
        bucket=KAOHE_S3_BUCKET,
        endpoint_url=envstr("KAOHE_S3_ENDPOINT_URL", ""),
        access_key=envsecret("KAOHE_S3_ACCESS_KEY_ID", ""),
        secret_key=envsecret("KAOHE_S3_SECRET_ACCESS_KEY", ""),
        region=envstr("KAOHE_S3_REGION", ""),
        addressing_style=envstr("KAOHE_S3_ADDRESSING_STYLE", ""),
    )
# Evidence uploads in progress (tus) are kept here until their last byte, then stored in
# STORAGES["default"]. Every app server must see the same directory (one shared file
# system, e.g. NFS, that supports flock): a client may resume through any of them.
KAOHE_UPLOAD_STAGING_DIR = Path(
    envstr("KAOHE_UPLOAD_STAGING_DIR", str(DATA_DIR / "uploads" / "partial")))
# Without collectstatic (development, tests) WhiteNoise serves from the finders.
WHITENOISE_USE_FINDERS = True

# The domain's notion of "today" for deadlines. Only a demo sets it, so the 2017 round
# can be shown in the middle of its schedule; audit times always use the real clock.
KAOHE_TODAY = envstr("KAOHE_TODAY", "")

# Audit entries are never deleted by Kaohe; this is the least an installation promises to
# keep (the Cybersecurity Law's six months), and a shorter setting stops the server.
AUDIT_RETENTION_DAYS = envint("AUDIT_RETENTION_DAYS", 180)
if AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS must be at least 180 (six months), not {AUDIT_RETENTION_DAYS}")
# The key of the audit chain's HMACs (kaohe.audit.chain). It is kept out of the database,
# so that the database's owner can neither rewrite entries and recompute the chain nor
# start one of their own; a restored backup verifies only with the same key. The demo
# (debug) uses a fixed key, and says so (check audit.W002, `kaohe verify`).
_DEMO_AUDIT_KEY = "insecure-demo-audit-key-do-not-use-in-production"
AUDIT_KEY = envsecret("AUDIT_KEY", "" if DEBUG else None)
AUDIT_KEY_IS_DEMO = not AUDIT_KEY
if AUDIT_KEY_IS_DEMO:
    AUDIT_KEY = _DEMO_AUDIT_KEY
if len(AUDIT_KEY) < 32:
    raise ImproperlyConfigured(
        f"AUDIT_KEY must be at least 32 characters long, not {len(AUDIT_KEY)} "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
# The anchors: the head of the audit log appended daily (`kaohe worker`) and on demand
# (`kaohe audit_anchor`) to a file outside the database, which `kaohe verify` compares with
# the log, so that cutting off its newest entries is noticed. A separate, append-only
# mount is better still.
AUDIT_ANCHOR_FILE = Path(envstr("AUDIT_ANCHOR_FILE", str(DATA_DIR / "audit-anchors.log")))

# Evidence uploads: the largest file, and the most one tus PATCH request may carry.
EVIDENCE_MAX_FILE_BYTES = envint("EVIDENCE_MAX_FILE_BYTES", 4 * 1024**3)
EVIDENCE_MAX_REQUEST_BYTES = envint("EVIDENCE_MAX_REQUEST_BYTES", 128 * 1024**2)
# Every other request (forms, with their files) as a whole; the tus endpoint limits its own.
REQUEST_MAX_BYTES = envint("KAOHE_REQUEST_MAX_BYTES", 210 * 1024**2)
# Uploaded workbooks (offline reports, directory import): bounded before they are parsed,
# counted from the bytes really unpacked and the rows and columns really there
# (kaohe.lib.xlsx_reading). The templates need a few hundred rows and ten columns.
KAOHE_IMPORT_MAX_UNPACKED_BYTES = envint("KAOHE_IMPORT_MAX_UNPACKED_BYTES", 20 * 1024**2)
KAOHE_IMPORT_MAX_ROWS = envint("KAOHE_IMPORT_MAX_ROWS", 20_000)
KAOHE_IMPORT_MAX_COLUMNS = envint("KAOHE_IMPORT_MAX_COLUMNS", 100)
if min(KAOHE_IMPORT_MAX_UNPACKED_BYTES, KAOHE_IMPORT_MAX_ROWS, KAOHE_IMPORT_MAX_COLUMNS) < 1:
    raise ImproperlyConfigured("KAOHE_IMPORT_MAX_* must be positive")
REQUEST_SIZE_EXEMPT_PREFIX = "/evidence/uploads/"

# Reminders go out by e-mail only where an installation configures a backend (SMTP).
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "kaohe@localhost")
# Where users reach the application: the links in notification e-mails start with it.
KAOHE_BASE_URL = envstr("KAOHE_BASE_URL", "http://127.0.0.1:8000")
if not KAOHE_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("KAOHE_BASE_URL must start with http:// or https://")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "WARNING")},
}

# Background work (documents, bulk exports): Django's Tasks API with the database backend;
# `kaohe worker` runs the queue. Generated bulk files expire after EXPORT_TTL_HOURS.
TASKS = {
    "default": {
        "BACKEND": envstr("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
EXPORT_TTL_HOURS = envint("KAOHE_EXPORT_TTL_HOURS", 24)
# Processes rendering a bulk export (0: one per core, at most 4).
EXPORT_PROCESSES = envint("KAOHE_EXPORT_PROCESSES", 0)
# A running export renews its lease (a heartbeat) every quarter of this; one whose heartbeat
# is older (its worker was killed) is marked failed by the next worker start or its page.
EXPORT_LEASE_SECONDS = envint("KAOHE_EXPORT_LEASE_SECONDS", 60)
# A folder with the office's licensed fonts (仿宋_GB2312, 楷体_GB2312, 黑体, 宋体, 方正小标宋);
# empty: the free faces of Debian's packages (Fandol, in texlive-lang-chinese) stand in.
KAOHE_FONT_DIR = envstr("KAOHE_FONT_DIR", "")
