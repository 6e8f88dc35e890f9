"""The database router of a live server whose task database is down (tests/worker_settings.py)."""

from __future__ import annotations

from typing import Any

#: django-tasks-db's app label: its job rows.
JOBS_APP_LABEL = "django_tasks_database"


class JobsOnTheTasksDatabase:
    """django-tasks-db's jobs on the ``tasks`` database, everything else on the default one."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "tasks" if model._meta.app_label == JOBS_APP_LABEL else None

    db_for_write = db_for_read
