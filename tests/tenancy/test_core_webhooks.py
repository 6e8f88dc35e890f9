"""Webhooks per tenant: endpoint routing, per-tenant secrets, events stored per tenant."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.test import Client

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import ExternalService, IntegrationLog, WebhookEvent
from patchbay.tenancy import current_tenant_key
from patchbay.webhooks import receiver
from patchbay.webhooks.background import process_event
from patchbay.webhooks.registry import disconnect
from tests.conftest import run_concurrently
from tests.tenant_app.models import Organization

pytestmark = [pytest.mark.urls("tests.tenancy.urls")]

SECRETS = {"": "site-secret", "acme": "acme-secret", "globex": "globex-secret"}


def endpoint_of(tenant, secret):
    service = ExternalService.objects.create(
        tenant=tenant, provider="pipeline", credentials={"webhook_secret": secret}
    )
    return service.webhook_endpoint


def deliver(path, payload, secret, client=None):
    body = json.dumps(payload).encode()
    return (client or Client()).post(
        path,
        data=body,
        content_type="application/json",
        headers={"X-Signature": hmac_sha256_hex(secret, body)},
    )


@pytest.fixture
def seen():
    """The tenant current in each handler run, by event id."""
    runs = []

    def handler(event):
        runs.append((event.event_id, current_tenant_key(), event.tenant_key))

    receiver("pipeline", "thing.happened")(handler)
    yield runs
    disconnect("pipeline", "thing.happened", handler)


@pytest.fixture
def endpoints(acme, globex):
    return {
        "acme": endpoint_of(acme, SECRETS["acme"]),
        "globex": endpoint_of(globex, SECRETS["globex"]),
    }


EVENT = {"id": "evt_1", "type": "thing.happened"}


def test_a_delivery_to_a_tenants_url_runs_for_that_tenant(acme, endpoints, seen):
    response = deliver(f"/hook/{endpoints['acme']}/", EVENT, SECRETS["acme"])
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.tenant_key == str(acme.pk)
    assert seen == [("evt_1", str(acme.pk), str(acme.pk))]
    assert IntegrationLog.objects.get(operation="webhook").tenant_key == str(acme.pk)


def test_tenant_as_signature_on_tenant_bs_url_is_refused(endpoints, globex, seen):
    response = deliver(f"/hook/{endpoints['globex']}/", EVENT, SECRETS["acme"])
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert seen == []
    refusal = IntegrationLog.objects.get()
    assert (refusal.error_code, refusal.tenant_key) == ("verification_failed", str(globex.pk))


def test_the_site_secret_does_not_open_a_tenants_url(endpoints, seen):
    response = deliver(f"/hook/{endpoints['acme']}/", EVENT, SECRETS[""])
    assert response.status_code == 400


def test_an_unknown_endpoint_is_a_404_in_json(endpoints, seen):
    response = deliver(f"/hook/{uuid.uuid4()}/", EVENT, SECRETS["acme"])
    assert response.status_code == 404
    assert response.json() == {"error": "Unknown webhook endpoint."}
    assert IntegrationLog.objects.get().error_code == "unknown_endpoint"
    assert seen == []


def test_another_providers_endpoint_is_unknown_here(acme, seen):
    other = ExternalService.objects.create(tenant=acme, provider="dummy")
    response = deliver(f"/hook/{other.webhook_endpoint}/", EVENT, SECRETS["acme"])
    assert response.status_code == 404


def test_the_same_event_id_for_two_tenants_is_stored_twice(acme, globex, endpoints, seen):
    for name in ("acme", "globex"):
        response = deliver(f"/hook/{endpoints[name]}/", EVENT, SECRETS[name])
        assert response.json() == {"status": "processed", "duplicate": False}
    again = deliver(f"/hook/{endpoints['acme']}/", EVENT, SECRETS["acme"])
    assert again.json()["duplicate"] is True
    stored = sorted(WebhookEvent.objects.values_list("tenant_key", "event_id"))
    assert stored == sorted([(str(acme.pk), "evt_1"), (str(globex.pk), "evt_1")])
    assert [run[1] for run in seen] == [str(acme.pk), str(globex.pk)]


def test_the_site_wide_url_stays_the_sites(endpoints, seen, db):
    ExternalService.objects.update_or_create(
        tenant_key="", provider="pipeline", defaults={"credentials": {"webhook_secret": "s"}}
    )
    assert deliver("/hook/", EVENT, "s").status_code == 200
    assert WebhookEvent.objects.get().tenant_key == ""
    assert seen == [("evt_1", "", "")]


def test_in_the_background_the_run_is_the_events_tenants(acme, endpoints, seen, settings):
    settings.PATCHBAY_WEBHOOK_PROCESSING = "background"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    response = deliver(f"/hook/{endpoints['acme']}/", EVENT, SECRETS["acme"])
    assert response.json()["status"] == "received"
    event = WebhookEvent.objects.get()
    assert event.tenant_key == str(acme.pk)
    assert seen == []
    # The task function, run directly: nothing current but what the event says.
    assert process_event(event.pk) == "processed"
    assert seen == [("evt_1", str(acme.pk), str(acme.pk))]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tenants_webhooks_in_parallel_never_cross(postgres_only, tenancy):
    acme = Organization.objects.create(name="Acme", slug="acme")
    globex = Organization.objects.create(name="Globex", slug="globex")
    endpoints = {
        str(acme.pk): (endpoint_of(acme, SECRETS["acme"]), SECRETS["acme"]),
        str(globex.pk): (endpoint_of(globex, SECRETS["globex"]), SECRETS["globex"]),
    }
    runs = []

    def slow(event):
        time.sleep(0.05)  # both tenants' deliveries overlap
        runs.append((event.payload["tenant"], current_tenant_key(), event.tenant_key))

    receiver("pipeline", "slow.event")(slow)
    jobs = [(key, number) for number in range(6) for key in endpoints]
    pending = iter(jobs)

    def post():
        key, number = next(pending)
        endpoint, secret = endpoints[key]
        payload = {"id": f"evt_{number}", "type": "slow.event", "tenant": key}
        return key, deliver(f"/hook/{endpoint}/", payload, secret).status_code

    try:
        answers = run_concurrently(post, len(jobs))
    finally:
        disconnect("pipeline", "slow.event", slow)
    assert sorted(status for _, status in answers) == [200] * len(jobs)
    # Every handler ran for the tenant whose URL received the event, and only once.
    assert len(runs) == len(jobs)
    assert all(sent == current == stored for sent, current, stored in runs)
    for key in endpoints:
        stored = WebhookEvent.objects.filter(tenant_key=key)
        assert sorted(stored.values_list("event_id", flat=True)) == sorted(
            f"evt_{number}" for number in range(6)
        )
        assert set(stored.values_list("payload__tenant", flat=True)) == {key}
        logs = IntegrationLog.objects.filter(operation="webhook", tenant_key=key)
        assert logs.count() == 6
