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
        from django.conf import settings

        from patchbay.webhooks import receiver

        receiver("pipeline", "thing.happened")(handle)
        if getattr(settings, "TEST_TWILIO_API_BASE", None):
            route_twilio_to(settings.TEST_TWILIO_API_BASE)


def route_twilio_to(base):
    """Send the twilio SDK's requests to ``base`` instead of https://api.twilio.com.

    The SDK has no setting for its API's address; a custom HTTP client is its way to
    change how requests are made, and patchbay builds its client on TwilioHttpClient.
    """
    from twilio.http import http_client

    class LocalTwilioHttpClient(http_client.TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            local = url.replace("https://api.twilio.com", base.rstrip("/"), 1)
            return super().request(method, local, *args, **kwargs)

    http_client.TwilioHttpClient = LocalTwilioHttpClient
