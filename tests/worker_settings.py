"""Settings of the processes tests/workers.py starts: task workers and the live server.

The test settings, on the test database the test run created (its name in
PATCHBAY_WORKER_DB_NAME), with django-tasks-db as the Tasks backend, short
retries and claims, the planned handlers of tests/worker_app, and the pipeline's
endpoint (tests/webhook_views) at the root for the live server.
"""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.worker_app"]
ROOT_URLCONF = "tests.webhook_views"
DATABASES["default"]["NAME"] = os.environ["PATCHBAY_WORKER_DB_NAME"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PATCHBAY_WEBHOOK_PROCESSING = "background"
PATCHBAY_WEBHOOK_MAX_ATTEMPTS = 3
PATCHBAY_WEBHOOK_RETRY_DELAY = 0.2
PATCHBAY_WEBHOOK_CLAIM_SECONDS = 2.0

# PATCHBAY_WORKER_BROKER_DOWN=1 (the live server only): the engine's broker is down, on
# a port where nothing listens.
BROKER_DOWN = os.environ.get("PATCHBAY_WORKER_BROKER_DOWN") == "1"
CLOSED_PORT = 1

# PATCHBAY_WORKER_ENGINE=rq: django-tasks-rq, for rqworker processes, on the Redis at
# PATCHBAY_WORKER_RQ_URL.
if os.environ.get("PATCHBAY_WORKER_ENGINE") == "rq":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]
    RQ_URL = os.environ["PATCHBAY_WORKER_RQ_URL"]
    if BROKER_DOWN:
        RQ_URL = f"redis://127.0.0.1:{CLOSED_PORT}/0"
    RQ_QUEUES = {"default": {"URL": RQ_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
elif BROKER_DOWN:
    # django-tasks-db's jobs on a database of their own (a router puts them there) whose
    # server is down; the events stay on the default database.
    DATABASES["tasks"] = {**DATABASES["default"], "HOST": "127.0.0.1", "PORT": CLOSED_PORT}
    DATABASE_ROUTERS = ["tests.worker_app.routers.JobsOnTheTasksDatabase"]

# What the test that starts a process gives it (tests/workers.py), e.g. a provider's API
# on a local server: settings by name, as JSON.
globals().update(json.loads(os.environ.get("PATCHBAY_WORKER_SETTINGS") or "{}"))
