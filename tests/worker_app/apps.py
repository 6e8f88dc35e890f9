from __future__ import annotations

import time

from django.apps import AppConfig


def handle(event):
    """Planned by the payload: sleep on the first run, fail the first ``fail`` runs.

    Each run that succeeds leaves one IntegrationLog row, committed with the event's
    status: the tests count them to prove each event was processed once.
    """
    from patchbay.models import IntegrationLog

    plan = event.payload
    if event.attempts == 1:
        time.sleep(plan.get("sleep_first", 0))
    if event.attempts <= plan.get("fail", 0):
        raise RuntimeError(f"planned failure {event.attempts}")
    IntegrationLog.objects.create(provider="worker-test", operation=event.event_id, success=True)


class WorkerAppConfig(AppConfig):
    name = "tests.worker_app"
    label = "patchbay_worker_tests"

    def ready(self):
        from patchbay.webhooks import receiver

        receiver("pipeline", "thing.happened")(handle)
