"""Work that runs after the response: ``run_after_response(function, *args, **kwargs)``.

Some work must not happen while a request is handled, because how long it takes
tells the client something: emailing a sign-in link only to addresses that have
an account makes the answer for those addresses slower, which tells an outsider
which addresses exist. Such work is handed to :func:`run_after_response`:

* inside a request, the call is kept and made once the response is complete,
  on Django's ``request_finished`` (sent when the server closes the response:
  after the WSGI server has written it, after the ASGI handler has sent it, and
  before the test client's ``get``/``post`` returns, which keeps tests
  deterministic);
* outside a request (a management command, a shell, a task, a view called
  directly in a test) it is made at once.

Each call runs on its own: an exception is logged with its traceback, never
raised, and the next call still runs. The calls run whether or not the
request's transaction committed, so they should read what they need from the
database themselves rather than trust what the request had in memory.

Why not a thread or ``transaction.on_commit``: a thread needs its own database
connection, may be killed with its process before it is done, and makes tests
race; ``on_commit`` runs inside the request (at the commit, before the
response), and pytest-django's ``django_db`` never runs it at all. This is the
smallest step that keeps the work out of the response.

Only what a task queue could store is accepted: a module-level function and
JSON values as arguments (anything else is a ``TypeError``, a programming
error). When Django's Tasks framework is installed and its default backend is
a real queue (anything but the ``ImmediateBackend``), the call is enqueued
instead (``patchbay.tasks.run_deferred``, after the current transaction
commits): the request only enqueues, the same work whatever the call will
find, and a worker makes it. With the immediate backend, or without the
framework, the semantics above hold.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connections
from django.utils.module_loading import import_string

logger = logging.getLogger("patchbay.deferred")


class _Call(NamedTuple):
    function: Callable[..., object]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


# The calls waiting for the end of the current request; None outside a request.
_pending: ContextVar[list[_Call] | None] = ContextVar("patchbay_after_response", default=None)


def run_after_response(function: Callable[..., object], /, *args: Any, **kwargs: Any) -> None:
    """Call ``function(*args, **kwargs)`` after the current response, or now outside one."""
    _check_storable(function, args, kwargs)
    if queued():
        from patchbay.core.tasks import enqueue_on_commit
        from patchbay.tasks import run_deferred

        path = f"{function.__module__}.{function.__qualname__}"
        enqueue_on_commit(run_deferred, path, list(args), kwargs)
        return
    call = _Call(function, args, kwargs)
    pending = _pending.get()
    if pending is None:
        _run(call)
    else:
        pending.append(call)


@contextmanager
def after_response_scope() -> Iterator[None]:
    """Keep the calls made inside the block, and make them when it ends.

    What a request does, for code that handles one without Django's handler
    (and for tests that measure a request's own work).
    """
    token = _pending.set([])
    try:
        yield
    finally:
        pending = _pending.get() or []
        _pending.reset(token)
        _run_all(pending)


def queued() -> bool:
    """Whether deferred calls go to a task queue: a Tasks framework with a real backend."""
    backends = getattr(settings, "TASKS", None)
    default = backends.get("default") if isinstance(backends, dict) else None
    backend = str(default.get("BACKEND", "")) if isinstance(default, dict) else ""
    if not backend or backend.endswith(".ImmediateBackend"):
        return False
    return any(_importable(name) for name in ("django_tasks", "django.tasks"))


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a parent package missing
        return False


def run_stored_call(path: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Make a call a task stored (``patchbay.tasks.run_deferred``): logged if it fails."""
    function = import_string(path)
    _check_storable(function, tuple(args), kwargs)
    _run(_Call(function, tuple(args), kwargs))


def _check_storable(function: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    module = sys.modules.get(getattr(function, "__module__", "") or "")
    name = getattr(function, "__qualname__", "")
    if not inspect.isfunction(function) or getattr(module, name, None) is not function:
        raise TypeError(f"run_after_response needs a module-level function, not {function!r}.")
    try:
        json.dumps([args, kwargs])
    except (TypeError, ValueError) as exc:
        raise TypeError(f"run_after_response takes JSON values as arguments: {exc}") from None


def _run(call: _Call) -> None:
    try:
        call.function(*call.args, **call.kwargs)
    except Exception:
        logger.exception("%s, run after the response, failed.", call)


def _run_all(calls: list[_Call]) -> None:
    for call in calls:
        _run(call)


def _request_started(**kwargs: Any) -> None:
    leftover = _pending.get()
    if leftover:  # the last response of this thread was never closed: do not lose its work
        logger.warning("%d calls of a response that was never closed run now.", len(leftover))
        _run_all(leftover)
    _pending.set([])


def _request_finished(**kwargs: Any) -> None:
    pending = _pending.get()
    _pending.set(None)
    if not pending:
        return
    _run_all(pending)
    # Django closed this request's connections before these calls (its receiver comes
    # first); give back what they opened, as it would have. Never inside a transaction
    # (a test's): closing there would break it.
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        try:
            connection.close_if_unusable_or_obsolete()
        except Exception:  # a connection that cannot even say its state: Django retries
            logger.debug("Could not close connection %r after the response.", connection.alias)


def connect() -> None:
    """Follow Django's requests; the app's ``ready()`` calls this once."""
    request_started.connect(_request_started, dispatch_uid="patchbay.deferred.started")
    request_finished.connect(_request_finished, dispatch_uid="patchbay.deferred.finished")
