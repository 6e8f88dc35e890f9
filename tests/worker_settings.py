"""Settings of the db_worker processes tests/test_webhook_workers.py starts.

The test settings, on the test database the test run created (its name in
PATCHBAY_WORKER_DB_NAME), with django-tasks-db as the Tasks backend, short
retries and claims, and the planned handlers of tests/worker_app.
"""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.worker_app"]
DATABASES["default"]["NAME"] = os.environ["PATCHBAY_WORKER_DB_NAME"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PATCHBAY_WEBHOOK_PROCESSING = "background"
PATCHBAY_WEBHOOK_MAX_ATTEMPTS = 3
PATCHBAY_WEBHOOK_RETRY_DELAY = 0.2
PATCHBAY_WEBHOOK_CLAIM_SECONDS = 2.0


# PATCHBAY_WORKER_ENGINE=rq: django-tasks-rq, for rqworker processes, on the Redis at
# PATCHBAY_WORKER_RQ_URL.
if os.environ.get("PATCHBAY_WORKER_ENGINE") == "rq":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ["PATCHBAY_WORKER_RQ_URL"]}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}

# What the test that starts a process gives it (tests/workers.py), e.g. a provider's API
# on a local server: settings by name, as JSON.
globals().update(json.loads(os.environ.get("PATCHBAY_WORKER_SETTINGS") or "{}"))
