"""patchbay's tasks: maintenance, each running its management command, and deferred calls.

Schedule them with the worker's own scheduler where the backend has one, or
run the commands from cron (see :doc:`background`). Each task logs what its
command printed; a command that fails (``CommandError``, a failed probe)
raises, so the backend records the run as failed.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from django.core.management import call_command

from patchbay.core.tasks import task

logger = logging.getLogger("patchbay.tasks")


def run_command(name: str, **options: Any) -> str:
    """Run the management command ``name``; what it printed, also logged."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, stdout=out, stderr=err, **options)
    finally:
        if out.getvalue():
            logger.info("%s: %s", name, out.getvalue().strip())
        if err.getvalue():
            logger.warning("%s: %s", name, err.getvalue().strip())
    return out.getvalue()


@task
def run_deferred(path: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """A call :func:`~patchbay.core.deferred.run_after_response` handed to the queue."""
    from patchbay.core import deferred

    deferred.run_stored_call(path, args, kwargs)


@task
def resume() -> None:
    """``patchbay_resume``: enqueue due webhook events and pending sends whose job was lost."""
    run_command("patchbay_resume")


@task
def prune() -> None:
    """``patchbay_prune``: old logs, health checks, settled webhook events, tokens."""
    run_command("patchbay_prune")


@task
def reap_uploads() -> None:
    """``patchbay_reap_uploads``: fail uploads never confirmed and delete their objects."""
    run_command("patchbay_reap_uploads")


@task
def twilio_reconcile() -> None:
    """``patchbay_twilio_reconcile``: fetch the status of messages stuck in a non-final one."""
    run_command("patchbay_twilio_reconcile")


@task
def probe_services() -> None:
    """``patchbay_status --probe``: call each service's health probe; raises if one fails."""
    run_command("patchbay_status", probe=True)


@task
def rebuild_rollups(days: int = 1) -> None:
    """``patchbay_rebuild_rollups``: recompute the dashboard's rollups of the last hours.

    The whole hours of the last ``days`` days that are over, so none the recorder
    is still adding to.
    """
    from django.utils import timezone

    from patchbay.core.rollups import hour_of

    run_command("patchbay_rebuild_rollups", days=days, until=hour_of(timezone.now()).isoformat())
