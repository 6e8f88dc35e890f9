"""Settings of the servers and workers of the background benchmark (``bench_background``).

Figure 3's site (:mod:`benchmarks._webhook_site`: the same endpoints, database and
cache) plus, from the environment:

- ``BENCH_WEBHOOK_PROCESSING``: ``inline`` (the default) or ``background``;
- ``BENCH_TASKS``: the Tasks backend, ``db`` (django-tasks-db, the default) or ``rq``
  (django-tasks-rq on the Redis at ``BENCH_RQ_URL``);
- ``BENCH_APP_NAME``: PostgreSQL's ``application_name`` of the process's connections,
  by which the benchmark tells its workers' connections from the servers'.
"""

from __future__ import annotations

import os
from importlib.util import find_spec

from benchmarks._webhook_site import *  # noqa: F403
from benchmarks._webhook_site import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_db"]
if not find_spec("django.tasks"):
    INSTALLED_APPS.insert(-1, "django_tasks")  # the backport, on Django 5.2
DATABASES["default"]["OPTIONS"] = {"application_name": os.environ.get("BENCH_APP_NAME", "bench")}

PATCHBAY_WEBHOOK_PROCESSING = os.environ.get("BENCH_WEBHOOK_PROCESSING", "inline")
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if os.environ.get("BENCH_TASKS") == "rq":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ["BENCH_RQ_URL"]}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
