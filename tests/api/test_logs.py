"""The logs endpoint: filters, dates and cursor pagination; bad values are a 400."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from patchbay.models import IntegrationLog
from tests.api.conftest import API

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)


def log(*, at=NOON, provider="stripe", operation="charge", success=True, **kwargs):
    level = "info" if success else "error"
    return IntegrationLog.objects.create(
        provider=provider,
        operation=operation,
        success=success,
        level=level,
        created_at=at,
        **kwargs,
    )


def ids(api, query=""):
    response = api.get(f"{API}/logs/{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_rows_are_newest_first_with_their_fields(api, admin_user):
    older = log(at=NOON - datetime.timedelta(hours=1))
    newer = log(success=False, error_code="card_declined", error="Declined", user=admin_user)

    response = api.get(f"{API}/logs/")

    assert [row["id"] for row in response.json()["results"]] == [newer.pk, older.pk]
    assert response.json()["results"][0] == {
        "id": newer.pk,
        "provider": "stripe",
        "operation": "charge",
        "direction": "outbound",
        "level": "error",
        "success": False,
        "simulated": False,
        "duration_ms": 0,
        "status_code": None,
        "error_code": "card_declined",
        "error": "Declined",
        "request_summary": {},
        "user": admin_user.pk,
        "created_at": NOON.isoformat(),
    }


def test_filters_combine(api):
    ok = log()
    failed = log(success=False)
    twilio = log(provider="twilio")
    sent = log(operation="send_sms")
    inbound = log(direction="inbound")

    assert ids(api, "?provider=twilio") == [twilio.pk]
    assert ids(api, "?level=error") == [failed.pk]
    assert ids(api, "?success=false") == [failed.pk]
    assert set(ids(api, "?success=true&provider=stripe")) == {ok.pk, sent.pk, inbound.pk}
    assert ids(api, "?operation=send_sms") == [sent.pk]
    assert ids(api, "?direction=inbound") == [inbound.pk]
    assert ids(api, "?level=warning") == []


def test_dates_bound_the_rows(api):
    day_before = log(at=NOON - datetime.timedelta(days=1))
    noon = log()
    evening = log(at=NOON + datetime.timedelta(hours=8))

    assert ids(api, "?start_date=2026-03-10") == [evening.pk, noon.pk]
    assert ids(api, "?end_date=2026-03-09") == [day_before.pk]
    assert ids(api, "?start_date=2026-03-10&end_date=2026-03-10") == [evening.pk, noon.pk]
    assert ids(api, "?start_date=2026-03-10T12:00:00Z&end_date=2026-03-10T13:00:00%2B00:00") == [
        noon.pk
    ]
    assert ids(api, "?end_date=2026-03-10T11:59:59Z") == [day_before.pk]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("?level=debug", "level must be one of info, warning, error"),
        ("?success=yes", "success must be one of true, false"),
        ("?start_date=yesterday", "start_date must be an ISO 8601 date"),
        ("?end_date=2026-02-30", "end_date must be an ISO 8601 date"),
        ("?end_date=2026-13-01T00:00:00", "end_date must be an ISO 8601 date"),
        ("?limit=0", "limit must be an integer from 1 to 200"),
        ("?limit=201", "limit must be an integer from 1 to 200"),
        ("?limit=99999999999999999999999", "limit must be an integer"),
        ("?limit=-1", "limit must be an integer"),
        ("?provider=a%00b", "provider must be at most 50 printable characters"),
        ("?provider=" + "x" * 51, "provider must be at most 50"),
        ("?level=info&level=error", "level is given 2 times"),
        ("?levle=info", "Unknown query parameter 'levle'"),
        ("?cursor=abc", "cursor is not one this list gave"),
    ],
)
def test_bad_query_values_are_a_400_naming_them(api, query, error):
    response = api.get(f"{API}/logs/{query}")

    assert response.status_code == 400
    assert error in response.json()["error"]


def test_the_cursor_pages_through_every_row_once_while_rows_are_added(api):
    rows = [log(at=NOON + datetime.timedelta(seconds=i % 3)) for i in range(7)]
    expected = [row.pk for row in sorted(rows, key=lambda r: (r.created_at, r.pk), reverse=True)]

    seen, cursor = [], None
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        page = api.get(f"{API}/logs/{query}").json()
        seen += [row["id"] for row in page["results"]]
        log(at=timezone.now())  # newer than every page: never shifts the next one
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected


def test_a_cursor_of_another_list_or_tampered_with_is_a_400(api):
    from patchbay.models import WebhookEvent

    for number in range(2):
        WebhookEvent.objects.create(provider="stripe", event_id=f"evt_{number}")
        log()
    events_cursor = api.get(f"{API}/webhooks/events/?limit=1").json()["next_cursor"]
    logs_cursor = api.get(f"{API}/logs/?limit=1").json()["next_cursor"]

    assert api.get(f"{API}/logs/?cursor={events_cursor}").status_code == 400
    assert api.get(f"{API}/logs/?cursor={logs_cursor[:-2]}xx").status_code == 400
    assert api.get(f"{API}/logs/?cursor={logs_cursor}").status_code == 200
