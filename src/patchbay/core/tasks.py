"""patchbay's tasks on Django's Tasks framework, or inline without one.

``@task`` on a module-level function gives an object that is called directly
and has ``.enqueue(*args, **kwargs)``; :func:`enqueue_on_commit` enqueues after
the current transaction commits. ``django.tasks`` (Django 6.0+) or the
``django-tasks`` backport when installed; neither, the task runs inline.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger("patchbay.tasks")


def _task_class() -> Any:
    """The framework's ``Task``: the backport first (on Django 5.2), then Django's (6.0+)."""
    for name in ("django_tasks.base", "django.tasks.base"):
        try:
            return importlib.import_module(name).Task
        except ImportError:
            continue
    return None


class _InlineTask:
    """A task without a framework: enqueueing runs it now, its failure logged."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def enqueue(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.func(*args, **kwargs)
        except Exception:
            logger.exception("The task %s failed.", self.func.__qualname__)


def task(func: Callable[..., Any]) -> Any:
    """A patchbay task: the framework's when there is one, else one that runs inline."""
    base = _task_class()
    if base is None:
        return _InlineTask(func)

    class CallableTask(base):  # type: ignore[misc, valid-type]
        __slots__ = ()

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self.call(*args, **kwargs)

    return CallableTask(func=func)


def enqueue_on_commit(task_obj: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue ``task_obj`` once the current transaction commits (now outside one)."""

    def enqueue() -> None:
        try:
            task_obj.enqueue(*args, **kwargs)
        except Exception:
            logger.exception("Could not enqueue %s.", getattr(task_obj, "__qualname__", task_obj))

    transaction.on_commit(enqueue)
