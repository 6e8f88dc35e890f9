"""The webhook events endpoints: list and filter, retrieve, reprocess one or many."""

from __future__ import annotations

import datetime

import pytest

from patchbay.models import WebhookEvent
from patchbay.webhooks import registry as webhook_registry
from tests.api.conftest import API, grant

pytestmark = pytest.mark.django_db

PROVIDER = "acme_api"


@pytest.fixture
def handled():
    calls = []

    def handle(event):
        calls.append(event.event_id)
        if event.payload.get("explode"):
            raise ValueError("handler exploded")

    webhook_registry.receiver(PROVIDER, "thing.happened")(handle)
    yield calls
    webhook_registry.disconnect(PROVIDER, "thing.happened", handle)


def event(event_id, *, status="failed", provider=PROVIDER, event_type="thing.happened", **kw):
    return WebhookEvent.objects.create(
        provider=provider, event_id=event_id, event_type=event_type, status=status, **kw
    )


def ids(api, query=""):
    response = api.get(f"{API}/webhooks/events/{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_events_are_listed_newest_first_and_filtered(api):
    failed = event("evt_1")
    processed = event("evt_2", status="processed", event_type="other.thing")
    stripe = event("evt_3", provider="stripe", status="received")
    WebhookEvent.objects.filter(pk=failed.pk).update(
        received_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )

    assert ids(api) == [stripe.pk, processed.pk, failed.pk]
    assert ids(api, "?provider=stripe") == [stripe.pk]
    assert ids(api, "?status=failed") == [failed.pk]
    assert ids(api, "?type=other.thing") == [processed.pk]
    assert ids(api, "?end_date=2026-01-01") == [failed.pk]
    assert ids(api, "?start_date=2026-01-02") == [stripe.pk, processed.pk]
    assert api.get(f"{API}/webhooks/events/?status=lost").status_code == 400


def test_the_list_leaves_payloads_out_and_an_event_has_its_own(api):
    row = event("evt_1", payload={"amount": 12})

    listed = api.get(f"{API}/webhooks/events/").json()["results"][0]
    retrieved = api.get(f"{API}/webhooks/events/{row.pk}/").json()

    assert "payload" not in listed
    assert retrieved == {**listed, "payload": {"amount": 12}}


@pytest.mark.parametrize("event_id", ["999", "abc", "0", "-1", "9" * 30])
def test_an_event_that_does_not_exist_is_a_404(api, event_id):
    assert api.get(f"{API}/webhooks/events/{event_id}/").status_code == 404
    assert api.post(f"{API}/webhooks/events/{event_id}/reprocess/").status_code == 404


def test_reprocessing_one_event_runs_its_handlers_again(api, handled):
    row = event("evt_1")

    response = api.post(f"{API}/webhooks/events/{row.pk}/reprocess/")

    assert response.status_code == 200
    assert handled == ["evt_1"]
    assert response.json()["results"][0]["status"] == "processed"
    row.refresh_from_db()
    assert row.status == WebhookEvent.Status.PROCESSED


def test_reprocessing_many_reports_each_outcome(api, handled):
    ok = event("evt_ok")
    broken = event("evt_bad", payload={"explode": True})

    response = api.post(
        f"{API}/webhooks/events/reprocess/",
        {"ids": [broken.pk, ok.pk]},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert handled == ["evt_ok", "evt_bad"]  # oldest first, as the admin action runs them
    results = {row["event_id"]: row for row in response.json()["results"]}
    assert results["evt_ok"]["status"] == "processed"
    assert results["evt_bad"]["status"] == "failed"
    assert results["evt_bad"]["error"] == "ValueError: handler exploded"


def test_reprocessing_many_with_a_missing_event_reprocesses_none(api, handled):
    row = event("evt_1")

    response = api.post(
        f"{API}/webhooks/events/reprocess/", {"ids": [row.pk, 999]}, content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json() == {"error": "No webhook event 999."}
    assert handled == []


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": []}, {"ids": "1"}, {"ids": [1.5]}, {"ids": [True]}, {"ids": [1], "all": True},
     {"ids": list(range(1, 102))}],
)  # fmt: skip
def test_bad_ids_are_a_400(api, body):
    response = api.post(f"{API}/webhooks/events/reprocess/", body, content_type="application/json")

    assert response.status_code == 400


def test_reprocessing_needs_the_change_permission(client, staff, handled):
    grant(staff, "view_webhookevent")
    client.force_login(staff)
    row = event("evt_1")

    response = client.post(f"{API}/webhooks/events/{row.pk}/reprocess/")

    assert response.status_code == 403
    assert response.json() == {"error": "Permission required: patchbay.change_webhookevent."}
    assert handled == []
