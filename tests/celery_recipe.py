"""Run patchbay's background work on Celery: docs/background.rst's recipe, as a module.

Copy it into your project (say ``yourproject/celery_tasks.py``), then point the
Tasks framework at it: ``TASKS = {"default": {"BACKEND":
"yourproject.celery_tasks.CeleryBackend"}}``. Every job patchbay enqueues (a
webhook event's run, a send, a retry with its time) becomes a Celery task that
runs the same function in a Celery worker; beat runs the maintenance.
tests/test_celery_recipe.py runs it in Celery's eager mode.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from patchbay import tasks as patchbay_tasks
from patchbay.webhooks.background import resume_webhooks

try:
    from django.tasks import TaskResult, TaskResultStatus
    from django.tasks.backends.base import BaseTaskBackend
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import TaskResult, TaskResultStatus
    from django_tasks.backends.base import BaseTaskBackend

# What beat may run, by name (see CELERY_BEAT_SCHEDULE in docs/background.rst).
MAINTENANCE = {
    "resume_webhooks": resume_webhooks,
    "prune": patchbay_tasks.prune,
    "reap_uploads": patchbay_tasks.reap_uploads,
    "twilio_reconcile": patchbay_tasks.twilio_reconcile,
    "probe_services": patchbay_tasks.probe_services,
}


# acks_late: a job whose worker dies mid-run is delivered again. patchbay's tasks are
# safe to run twice (each claims its row first), and the resume catches what is lost.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_task(path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Run the Tasks framework task stored at ``path`` (its ``module_path``)."""
    return import_string(path).call(*args, **kwargs)


@shared_task
def patchbay_maintenance(name: str) -> Any:
    """Run one of :data:`MAINTENANCE` here, in the Celery worker."""
    return MAINTENANCE[name]()


class CeleryBackend(BaseTaskBackend):
    """A Tasks backend that hands each job to Celery as a :func:`run_task`."""

    supports_defer = True  # a task's run_after becomes the Celery task's eta

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        run_task.apply_async(
            (task.module_path, list(args), dict(kwargs)), eta=task.run_after, task_id=result.id
        )
        return result
