"""Settings of the example project, read from the environment.

Every variable is documented in ``.env.example`` at the repository root. A
``.env`` file in ``example_project/`` or the repository root is read too;
real environment variables win over both.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from example.env import (
    env_bool,
    env_list,
    env_optional_bool,
    env_optional_str,
    env_str,
    load_env_file,
)
from patchbay.cache import cache_settings

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BASE_DIR.parent

for env_file in (BASE_DIR / ".env", REPO_ROOT / ".env"):
    load_env_file(env_file)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is false.")
    SECRET_KEY = "example-project-insecure-development-key"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "patchbay",
    "billing",
    "messaging",
    "accounts",
    "files",
    "connections",
    "organizations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The organization chosen in the header is the current tenant while a view runs.
    "patchbay.tenancy.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"

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
                "organizations.context.organizations",
            ]
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's four standard validators: sign-up and password reset refuse a weak password
# with the validator's own message. (createsuperuser --noinput, as dev.py runs it for
# admin / admin, does not validate.)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Local memory without REDIS_URL: fine for one runserver process.
CACHES = cache_settings(env_str("REDIS_URL") or None, key_prefix="patchbay-example")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The stylesheet and favicon every page uses ship with the example: no CDN.
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where uploaded files go; in simulation, the simulated S3 bucket too (MEDIA_ROOT/patchbay-s3/).
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(BASE_DIR / "media")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "patchbay": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The simulated console: every simulated call ("[simulated] provider.operation
        # ...") and what simulated emails and messages say, links and codes included.
        "patchbay.simulation": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# -- patchbay ---------------------------------------------------------------------------

# Simulation follows DEBUG (patchbay's default): on a developer's machine every provider
# is simulated, deployed none is. PATCHBAY_SIMULATE=false makes real calls with DEBUG on;
# the example never forces simulation on, which with DEBUG off would open the simulated
# flows (and, before patchbay refused them, forged webhooks) to anyone.
if env_optional_bool("PATCHBAY_SIMULATE"):
    raise ImproperlyConfigured(
        "PATCHBAY_SIMULATE=true: the example never forces simulation on, it follows DEBUG "
        "(DEBUG=true simulates). Remove the variable, or set it to false for real calls."
    )
PATCHBAY_SIMULATE = False if env_optional_bool("PATCHBAY_SIMULATE") is False else None
PATCHBAY_PUBLIC_URL = env_str("PATCHBAY_PUBLIC_URL")
# Unset: keys are derived from SECRET_KEY.
PATCHBAY_ENCRYPTION_KEYS = env_list("PATCHBAY_ENCRYPTION_KEYS") or None

# -- tenants ----------------------------------------------------------------------------

# Two demo organizations, each with its own provider accounts (docs/tenants.rst). The
# header chooses one per session; working "as the site" (no organization) the demos use
# the site's own accounts, as a project without tenants does: hence not REQUIRED here.
PATCHBAY_TENANT_MODEL = "organizations.Organization"
PATCHBAY_TENANT_RESOLVER = "organizations.tenancy.current_organization"
PATCHBAY_TENANT_REQUIRED = False

# -- background work --------------------------------------------------------------------

# BACKGROUND_WORKER=true (``python3 dev.py example --worker`` sets it): webhooks are
# processed, and emails and SMS sent, by a db_worker process beside runserver, through
# django-tasks-db on the example's own database. Unset, everything runs in the request.
if env_bool("BACKGROUND_WORKER", False):
    if not find_spec("django.tasks"):
        INSTALLED_APPS.append("django_tasks")  # the backport, on Django 5.2
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    PATCHBAY_WEBHOOK_PROCESSING = "background"
    PATCHBAY_SEND_IN_BACKGROUND = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # Two processes write one SQLite file. A deferred transaction (SQLite's default)
        # that reads before it writes fails at once ("database is locked") while the
        # other process writes; an immediate one waits for the lock, up to "timeout"
        # seconds. WAL lets the pages read while the worker writes.
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            transaction_mode="IMMEDIATE", timeout=20, init_command="PRAGMA journal_mode=WAL"
        )

# -- providers (unset means "not configured"; the admin can configure them instead) ----

LOOPS_API_KEY = env_optional_str("LOOPS_API_KEY")
LOOPS_WEBHOOK_SECRET = env_optional_str("LOOPS_WEBHOOK_SECRET")
# The Loops templates the shortcuts send; any id works in simulation, live they must be
# the ids of your templates (Loops: Transactional → a template → API).
LOOPS_TRANSACTIONAL_IDS = {
    "password_reset": env_optional_str("LOOPS_TRANSACTIONAL_ID_PASSWORD_RESET")
    or "sim_password_reset",
    "login_code": env_optional_str("LOOPS_TRANSACTIONAL_ID_LOGIN_CODE") or "sim_login_code",
    "team_membership": env_optional_str("LOOPS_TRANSACTIONAL_ID_TEAM_MEMBERSHIP")
    or "sim_team_membership",
}

STRIPE_ENABLED = env_optional_bool("STRIPE_ENABLED")
STRIPE_API_KEY = env_optional_str("STRIPE_API_KEY")
STRIPE_WEBHOOK_SECRET = env_optional_str("STRIPE_WEBHOOK_SECRET")
# The billing demo's plans, shown by name and amount. The amounts are what the page says,
# Stripe charges what the Price says: live, set each price id to a real Price of that
# amount (any id works in simulation).
BILLING_PLANS = {
    "basic": {
        "name": "Basic",
        "amount": "5.00",
        "currency": "EUR",
        "interval": "month",
        "price_id": env_optional_str("STRIPE_PRICE_BASIC") or "price_basic_monthly",
    },
    "pro": {
        "name": "Pro",
        "amount": "15.00",
        "currency": "EUR",
        "interval": "month",
        "price_id": env_optional_str("STRIPE_PRICE_PRO") or "price_pro_monthly",
    },
}

# The example's own sign-in page, for every user: the admin's login refuses anyone who is
# not staff, and would land a site user in the admin after a password reset.
LOGIN_URL = "accounts:login"
# Where signing in (with a password, or a link without a next URL) lands.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

TWILIO_ENABLED = env_optional_bool("TWILIO_ENABLED")
TWILIO_ACCOUNT_SID = env_optional_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_optional_str("TWILIO_AUTH_TOKEN")
TWILIO_PHONE_NUMBER = env_optional_str("TWILIO_PHONE_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_optional_str("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_WHATSAPP_NUMBER = env_optional_str("TWILIO_WHATSAPP_NUMBER")
TWILIO_WEBHOOK_SIGNING_KEY = env_optional_str("TWILIO_WEBHOOK_SIGNING_KEY")
TWILIO_DEFAULT_REGION = env_optional_str("TWILIO_DEFAULT_REGION")
TWILIO_VERIFY_SERVICE_SID = env_optional_str("TWILIO_VERIFY_SERVICE_SID")
PATCHBAY_PHONE_VERIFICATION_BACKEND = (
    env_optional_str("PATCHBAY_PHONE_VERIFICATION_BACKEND") or "local"
)
# Seconds before each simulated status callback (queued, sent, delivered): one spacing
# ("0.5") or three ("1,2,3"). A few seconds by default, so the message page has a
# progress to show; 0 delivers them within the send.
_callback_delays = env_list("PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS") or ["1", "2", "3"]
PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS = (
    _callback_delays[0] if len(_callback_delays) == 1 else tuple(_callback_delays)
)

AWS_ACCESS_KEY_ID = env_optional_str("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env_optional_str("AWS_SECRET_ACCESS_KEY")
AWS_STORAGE_BUCKET_NAME = env_optional_str("AWS_STORAGE_BUCKET_NAME")
AWS_REGION = env_optional_str("AWS_REGION")
AWS_S3_ENDPOINT_URL = env_optional_str("AWS_S3_ENDPOINT_URL")
# The upload demo's limits: small by default, so that a refused file is easy to show.
AWS_MAX_UPLOAD_SIZE = int(env_str("AWS_MAX_UPLOAD_SIZE") or 5 * 1024 * 1024)
# Unset: patchbay's allow-list of types known safe (images, PDF, text, documents, media...).
AWS_UPLOAD_ALLOWED_CONTENT_TYPES = env_list("AWS_UPLOAD_ALLOWED_CONTENT_TYPES") or None
