"""patchbay's background work on Django's Tasks framework, whichever one is installed.

``django.tasks`` (Django 6.0+) is used where it exists, else the ``django-tasks``
backport (``pip install django-patchbay[tasks]``); with neither, a task runs
inline when it is enqueued. Nothing is imported from either until a task is
first enqueued, so defining tasks costs a start nothing (tests/test_startup.py).

The framework's workers find a task by the dotted path of its function, and
insist it names the framework's own Task object. A patchbay task is a
:class:`PatchbayTask` (callable, so its module's name can be called directly),
so the framework's Task is built on first use around a function whose path
points back here: :func:`__getattr__` below resolves it, importing the defining
module if the worker has not yet.
"""

from __future__ import annotations

import importlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import partial
from types import ModuleType
from typing import Any, Generic, ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from patchbay.tenancy import resolve_tenant_key, tenancy_enabled, use_tenant

logger = logging.getLogger("patchbay.tasks")

P = ParamSpec("P")
R = TypeVar("R")

#: Every patchbay task by the name its framework function is reachable under here.
_TASKS: dict[str, PatchbayTask[Any, Any]] = {}
# Not an identifier, so never mistaken for one, and reversible: the framework splits a
# path at its last dot, so the dots of the defining module's path are written as colons.
_PREFIX = "task:"
_DOT = ":"


#: The longest wait between two retries, whatever the attempt.
MAX_RETRY_DELAY = 6 * 3600.0

_random = secrets.SystemRandom()


def retry_delay(attempts: int, first_delay: float) -> float:
    """Seconds before the retry after ``attempts`` failed runs: doubling, with jitter.

    ``first_delay`` after the first failure, twice that after the second, and
    so on, at most :data:`MAX_RETRY_DELAY`. Half the delay is fixed and half
    random, so runs that failed together (a provider outage) are not all
    retried in the same second.
    """
    delay = min(first_delay * 2.0 ** max(attempts - 1, 0), MAX_RETRY_DELAY)
    return delay / 2 + _random.uniform(0, delay / 2)


def framework() -> ModuleType | None:
    """``django.tasks``, else ``django_tasks``, else None (tasks then run inline)."""
    for name in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _exported_name(function: Callable[..., Any]) -> str:
    if "<locals>" in function.__qualname__:
        raise ValueError(f"{function!r}: a task must be a module-level function.")
    path = f"{function.__module__}.{function.__qualname__}"
    return _PREFIX + path.replace(".", _DOT)


class PatchbayTask(Generic[P, R]):
    """A task: call it to run it here and now, :meth:`enqueue` it to run it in a worker."""

    def __init__(self, function: Callable[P, R]) -> None:
        self.function = function
        self.name = _exported_name(function)
        self._framework_task: Any = None
        _TASKS[self.name] = self

    def __repr__(self) -> str:
        return f"<PatchbayTask {self.function.__module__}.{self.function.__qualname__}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    def framework_task(self) -> Any:
        """The framework's Task for this function; None with no framework installed."""
        if self._framework_task is None:
            tasks = framework()
            if tasks is None:
                return None
            function = self.function

            def run(*args: Any, **kwargs: Any) -> Any:
                return _run_for_tenant(function, args, kwargs)

            # The path the framework stores and a worker imports: this module's __getattr__.
            run.__module__ = __name__
            run.__name__ = run.__qualname__ = self.name
            run.__doc__ = function.__doc__
            self._framework_task = tasks.task(run)
        return self._framework_task

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Enqueue the task on the default backend; its TaskResult (None when run inline).

        Raises what the backend raises (a broker that is down): see
        :func:`enqueue_on_commit` for the variant that never does.
        """
        framework_task = self.framework_task()
        if framework_task is None:
            _run_for_tenant(self.function, args, kwargs)
            return None
        return framework_task.enqueue(*args, **carrying_tenant(kwargs))


#: The keyword argument a job carries its tenant's key in (see :doc:`/tenants`).
TENANT_KWARG = "patchbay_tenant"


def carrying_tenant(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the current tenant's key added, when tenancy is on and one is current.

    The job then runs for that tenant in the worker. Without a tenant model jobs
    are unchanged.
    """
    if TENANT_KWARG in kwargs or not tenancy_enabled():
        return kwargs
    key, named = resolve_tenant_key()
    return {**kwargs, TENANT_KWARG: key} if named else kwargs


def _run_for_tenant(function: Callable[..., R], args: Any, kwargs: dict[str, Any]) -> R:
    if TENANT_KWARG not in kwargs:
        return function(*args, **kwargs)
    kwargs = dict(kwargs)
    with use_tenant(kwargs.pop(TENANT_KWARG)):
        return function(*args, **kwargs)


def task(function: Callable[P, R]) -> PatchbayTask[P, R]:
    """Declare a patchbay task: ``@task`` above a module-level function."""
    return PatchbayTask(function)


def enqueue(task_obj: PatchbayTask[P, Any], *args: P.args, **kwargs: P.kwargs) -> bool:
    """Enqueue ``task_obj`` now; whether it was. Never raises: a failure is logged."""
    try:
        task_obj.enqueue(*args, **kwargs)
    except Exception:
        # The broker is down, or (inline) the task failed: whatever the task works on is
        # stored, and its own resume (e.g. patchbay_resume_webhooks) runs it later.
        logger.exception("Could not enqueue %r", task_obj)
        return False
    return True


def enqueue_after(
    when: datetime, task_obj: PatchbayTask[P, Any], *args: P.args, **kwargs: P.kwargs
) -> bool:
    """Enqueue ``task_obj`` to run at ``when`` or later; whether it was.

    False, with nothing enqueued, when the backend cannot defer a task (the
    immediate one) or there is no framework: the caller's resume runs it then.
    Never raises: a failure is logged.
    """
    try:
        framework_task = task_obj.framework_task()
        if framework_task is None or not framework_task.get_backend().supports_defer:
            return False
        framework_task.using(run_after=when).enqueue(*args, **carrying_tenant(kwargs))
    except Exception:
        logger.exception("Could not enqueue %r for %s", task_obj, when.isoformat())
        return False
    return True


def enqueue_on_commit(task_obj: PatchbayTask[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
    """Enqueue ``task_obj`` once the current transaction (default database) commits.

    Outside a transaction it is enqueued at once; after a rollback, never.
    Never raises at the caller (see :func:`enqueue`), but for a job stored in
    the caller's own transaction: see :func:`enqueue_on_commit_using`.
    """
    enqueue_on_commit_using(None, task_obj, *args, **kwargs)


def enqueue_on_commit_using(
    using: str | None, task_obj: PatchbayTask[P, Any], *args: P.args, **kwargs: P.kwargs
) -> None:
    """:func:`enqueue_on_commit` after the transaction of database ``using`` commits.

    A backend that keeps its queue in that same database (django-tasks-db) gets
    the job now, inside the transaction: workers see it when the caller's rows
    commit and never after a rollback, as on commit, but it costs no second
    commit (on PostgreSQL a second WAL flush, most of an enqueue's cost) and
    leaves no moment where the rows are stored and their job is not. Without a
    savepoint, which would cost as much again: if the job's INSERT fails, the
    caller's transaction is broken, and the error is raised.
    """
    alias = using or DEFAULT_DB_ALIAS
    if queue_database(task_obj) == alias:
        try:
            task_obj.enqueue(*args, **kwargs)
        except Exception:
            if connections[alias].needs_rollback:
                # The job's INSERT failed inside the caller's transaction, which cannot
                # commit now: the caller fails as on any database error, storing nothing.
                raise
            logger.exception("Could not enqueue %r", task_obj)
        return
    # The tenant of now: the block that set it may have ended when the transaction commits.
    transaction.on_commit(partial(enqueue, task_obj, *args, **carrying_tenant(kwargs)), using=using)


def queue_database(task_obj: PatchbayTask[Any, Any]) -> str | None:
    """The database alias ``task_obj``'s backend stores its jobs in, if it is django-tasks-db."""
    try:
        backend = task_obj.framework_task().get_backend()
    except Exception:
        return None  # no framework, or a backend that cannot be loaded: enqueue() logs it
    if type(backend).__module__.partition(".")[0] != "django_tasks_db":
        return None
    from django_tasks_db.models import DBTaskResult

    alias: str = router.db_for_write(DBTaskResult)
    return alias


def __getattr__(name: str) -> Any:
    # A worker importing a task's path: import the module defining it, which registers it.
    if not name.startswith(_PREFIX):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _TASKS:
        module, _, _function = name[len(_PREFIX) :].replace(_DOT, ".").rpartition(".")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise AttributeError(f"no patchbay task {name!r}") from exc
    try:
        found = _TASKS[name]
    except KeyError:
        raise AttributeError(f"no patchbay task {name!r}") from None
    return found.framework_task()
