"""Settings for patchbay's test suite.

SQLite and local memory by default; set ``DATABASE_URL`` (PostgreSQL) and
``REDIS_URL`` to run the same suite against real servers, as CI does.
"""

from __future__ import annotations

import os
from importlib.util import find_spec

from patchbay.cache import cache_settings

SECRET_KEY = "patchbay-tests-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "patchbay",
    # The tenant model of tests/tenancy; inert without PATCHBAY_TENANT_MODEL.
    "tests.tenant_app",
]
# The task engine whose db_worker processes tests/test_webhook_workers.py starts: its
# tables in the test database (the backport's app too on Django 5.2, which has no
# django.tasks). Absent from the no-extras environment.
if find_spec("django_tasks_db"):
    if not find_spec("django.tasks"):
        INSTALLED_APPS.append("django_tasks")
    INSTALLED_APPS.append("django_tasks_db")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

# PATCHBAY_TEST_LOGIN_REQUIRED=1 runs the suite behind Django's LoginRequiredMiddleware,
# as CI does once: every view that must work without a session says so.
if os.environ.get("PATCHBAY_TEST_LOGIN_REQUIRED") == "1":
    MIDDLEWARE.append("django.contrib.auth.middleware.LoginRequiredMiddleware")

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

REDIS_URL = os.environ.get("REDIS_URL") or None
CACHES = cache_settings(REDIS_URL, key_prefix="patchbay-tests")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tests decide simulation explicitly; the default (None) follows DEBUG, which is False here.
PATCHBAY_SIMULATE = None

# The suite runs with DEBUG off and local-memory caches on SQLite; the cache
# warning is asserted in the checks tests instead.
SILENCED_SYSTEM_CHECKS = ["patchbay.W004"]

# Each test's database is rolled back or emptied when it ends, and a row that the
# background recorder stored later would land in another test: record in the
# calling thread, as the testing docs advise. tests/test_recording.py turns it on.
PATCHBAY_RECORD_IN_BACKGROUND = False
