"""Prometheus metrics: counted as calls and deliveries happen, scraped and parsed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from patchbay import metrics
from patchbay.checks import check_metrics
from patchbay.core.breaker import CircuitBreaker
from patchbay.core.recording import record_call
from patchbay.models import ExternalService, WebhookEvent

TOKEN = "scrape-token-0123456789"
URL = "/integrations/metrics/"
PHONE = "+15005550006"


@pytest.fixture
def metrics_on(settings):
    settings.PATCHBAY_METRICS = True
    settings.PATCHBAY_METRICS_TOKEN = TOKEN


def scrape(client, **headers):
    response = client.get(URL, headers={"Authorization": f"Bearer {TOKEN}", **headers})
    assert response.status_code == 200, response.content
    return response


def samples(client):
    """``(name, labels) -> value`` of every sample of a scrape."""
    text = scrape(client).content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found, name, **labels):
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def call(provider="dummy", operation="create_item", **kwargs):
    defaults = {"success": True, "duration_ms": 120, "error": "", "error_code": ""}
    record_call(provider=provider, operation=operation, **{**defaults, **kwargs})


@pytest.mark.django_db
class TestTheView:
    def test_off_by_default_and_counting_nothing(self, client, monkeypatch):
        def made():
            raise AssertionError("metrics made while off")

        monkeypatch.setattr(metrics, "_made", made)
        call()
        metrics.count_delivery("stripe", "processed")
        response = client.get(URL)
        assert response.status_code == 404
        assert "PATCHBAY_METRICS" in response.json()["error"]

    def test_needs_the_token_or_a_staff_session(self, client, admin_client, metrics_on):
        assert client.get(URL).status_code == 401
        wrong = client.get(URL, headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        assert wrong["WWW-Authenticate"].startswith("Bearer")
        assert TOKEN not in wrong.content.decode()
        assert client.get(URL, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert admin_client.get(URL).status_code == 200

    def test_no_token_set_leaves_staff_sessions_only(self, client, settings, metrics_on):
        settings.PATCHBAY_METRICS_TOKEN = None
        assert client.get(URL, headers={"Authorization": "Bearer "}).status_code == 401

    def test_only_get(self, admin_client, metrics_on):
        assert admin_client.post(URL).status_code == 405

    def test_mounted_as_patchbay_metrics(self):
        assert reverse("patchbay:metrics") == URL


@pytest.mark.django_db
class TestCalls:
    def test_by_provider_operation_outcome_and_mode_with_latency(self, client, metrics_on):
        before = samples(client)
        call()
        call(success=False, error_code="timeout", error="Dummy did not answer in time.")
        call(success=False, error_code="card_declined", error="Your card was declined.")
        call(simulated=True)
        after = samples(client)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        live = {"provider": "dummy", "operation": "create_item", "mode": "live"}
        assert delta("patchbay_calls_total", outcome="success", **live) == 1
        assert delta("patchbay_calls_total", outcome="timeout", **live) == 1
        # A provider's own code would give the label no bound.
        assert delta("patchbay_calls_total", outcome="provider_error", **live) == 1
        assert delta("patchbay_calls_total", outcome="success", **{**live, "mode": "simulated"})
        timing = {"provider": "dummy", "operation": "create_item"}
        assert delta("patchbay_call_duration_seconds_count", **timing) == 4
        assert delta("patchbay_call_duration_seconds_sum", **timing) == pytest.approx(0.48)
        assert delta("patchbay_call_duration_seconds_bucket", le="0.25", **timing) == 4
        assert delta("patchbay_call_duration_seconds_bucket", le="0.1", **timing) == 0

    def test_no_secret_or_unbounded_value_reaches_a_label(self, client, metrics_on):
        call(
            provider="twilio",
            operation="send_sms",
            success=False,
            error_code="twilio_21211",
            error=f"The 'To' number {PHONE} is not valid.",
            summary={"to": PHONE},
        )
        body = scrape(client).content.decode()
        assert "send_sms" in body
        assert PHONE not in body
        assert "twilio_21211" not in body
        assert TOKEN not in body


@pytest.mark.django_db
class TestWebhookDeliveries:
    def test_counted_by_provider_and_status(self, client, metrics_on):
        before = samples(client)
        refused = client.post(
            reverse("patchbay:stripe-webhook"),
            data=b"{}",
            content_type="application/json",
            headers={"Stripe-Signature": "t=1,v1=forged"},
        )
        assert refused.status_code == 400
        metrics.count_delivery("stripe", WebhookEvent.Status.PROCESSED)
        after = samples(client)
        name = "patchbay_webhook_deliveries_total"
        for status in ("refused", "processed"):
            got = value(after, name, provider="stripe", status=status)
            assert got - value(before, name, provider="stripe", status=status) == 1


@pytest.mark.django_db
class TestStateReadWhenScraped:
    def test_breaker_and_health(self, client, metrics_on):
        CircuitBreaker("stripe", threshold=1).record_failure()
        ExternalService.objects.update_or_create(
            provider="stripe", defaults={"health_status": "down"}
        )
        found = samples(client)
        assert value(found, "patchbay_breaker_state", provider="stripe", state="open") == 1
        assert value(found, "patchbay_breaker_state", provider="stripe", state="closed") == 0
        assert value(found, "patchbay_breaker_state", provider="loops", state="closed") == 1
        assert value(found, "patchbay_service_health", provider="stripe", state="down") == 1
        assert value(found, "patchbay_service_health", provider="loops", state="unknown") == 1

    def test_queue_depth(self, client, metrics_on):
        an_hour_ago = timezone.now() - timezone.timedelta(hours=1)
        for number, status in enumerate(["received", "received", "failed", "dead", "processed"]):
            event = WebhookEvent.objects.create(
                provider="stripe", event_id=f"evt_{number}", event_type="x", status=status
            )
            WebhookEvent.objects.filter(pk=event.pk).update(received_at=an_hour_ago)
        found = samples(client)
        waiting = "patchbay_webhook_events_waiting"
        assert value(found, waiting, provider="stripe", status="queued") == 2
        assert value(found, waiting, provider="stripe", status="retrying") == 1
        assert value(found, waiting, provider="stripe", status="dead") == 1
        age = value(found, "patchbay_webhook_oldest_waiting_seconds", provider="stripe")
        assert 3600 <= age < 3700
        assert ("patchbay_sends_pending", (("channel", "sms"),)) in found

    def test_openmetrics_when_asked(self, client, metrics_on):
        call()
        response = scrape(client, Accept="application/openmetrics-text; version=1.0.0")
        assert response["Content-Type"].startswith("application/openmetrics-text")
        names = {family.name for family in openmetrics_families(response.content.decode())}
        assert {"patchbay_calls", "patchbay_breaker_state"} <= names


WRITER = """
import os, sys
from django.conf import settings
settings.configure(PATCHBAY_METRICS=True)
from patchbay import metrics
from patchbay.checks import check_metrics
for _ in range(int(sys.argv[1])):
    metrics.count_call(
        "loops", "send_transactional", success=True, error_code="", seconds=0.2,
        simulated=False,
    )
metrics.count_delivery("loops", "processed")
"""


@pytest.mark.django_db
def test_multiprocess_mode_sums_every_worker(client, metrics_on, tmp_path, monkeypatch):
    environment = {**os.environ, metrics.MULTIPROC_DIR: str(tmp_path)}
    for count in (3, 4):  # two worker processes, each writing its own files
        subprocess.run(  # noqa: S603  (our own interpreter and script)
            [sys.executable, "-c", WRITER, str(count)], env=environment, check=True, timeout=60
        )
    monkeypatch.setenv(metrics.MULTIPROC_DIR, str(tmp_path))
    found = samples(client)
    labels = {"provider": "loops", "operation": "send_transactional"}
    assert value(found, "patchbay_calls_total", outcome="success", mode="live", **labels) == 7
    assert value(found, "patchbay_call_duration_seconds_count", **labels) == 7
    assert value(found, "patchbay_webhook_deliveries_total", provider="loops", status="processed")
    assert value(found, "patchbay_breaker_state", provider="loops", state="closed") == 1


def test_a_counting_failure_never_reaches_the_call(metrics_on, monkeypatch, caplog):
    def broken():
        raise OSError("No such file or directory: '/gone/counter_1.db'")

    monkeypatch.setattr(metrics, "_made", broken)
    metrics.count_call(
        "loops", "send_event", success=True, error_code="", seconds=0.1, simulated=False
    )
    metrics.count_delivery("loops", "processed")
    assert "Could not count a loops call" in caplog.text


class TestChecks:
    def test_e065_metrics_on_without_prometheus_client(self, metrics_on, monkeypatch):
        monkeypatch.setattr(metrics, "installed", lambda: False)
        [found] = messages("patchbay.E065")
        assert found.hint == "pip install django-patchbay[prometheus]"

    def test_e066_multiprocess_directory_missing(self, metrics_on, monkeypatch, tmp_path):
        monkeypatch.setenv(metrics.MULTIPROC_DIR, str(tmp_path / "missing"))
        [found] = messages("patchbay.E066")
        assert found.hint.startswith("Create it (empty)")
        monkeypatch.setenv(metrics.MULTIPROC_DIR, str(tmp_path))
        assert messages("patchbay.E066") == []

    def test_w065_token_without_metrics(self, settings):
        settings.PATCHBAY_METRICS_TOKEN = TOKEN
        [found] = messages("patchbay.W065")
        assert found.hint == "Set PATCHBAY_METRICS = True, or remove the token."
        assert TOKEN not in found.msg

    def test_nothing_to_report_by_default(self):
        assert [m for m in check_metrics() if m.id.startswith("patchbay.")] == []


def messages(check_id):
    return [message for message in check_metrics() if message.id == check_id]
