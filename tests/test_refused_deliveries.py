"""Forged traffic cannot fill the database or the logs (issue 14, finding 7).

1,000 unsigned POSTs to the Stripe endpoint used to write 1,000 IntegrationLog
rows and 2,000 warnings. Refusals are now counted per provider and reason in
the cache; one row and one warning per window stand for them, with the count.
"""

from __future__ import annotations

import json
import logging
from unittest import mock

import pytest
from django.core.management import call_command

from patchbay.core import recording
from patchbay.models import IntegrationLog
from patchbay.status import service_status
from patchbay.stripe.client import StripeClient
from tests.live_webhooks import STRIPE_URL, live_stripe

__all__ = ["live_stripe"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_stripe")]

UNSIGNED = json.dumps({"id": "evt_forged", "type": "customer.subscription.created"})


def forge(client, times, **headers):
    return [
        client.post(
            STRIPE_URL, data=UNSIGNED, content_type="application/json", headers=headers
        ).status_code
        for _ in range(times)
    ]


def refusal_rows():
    return IntegrationLog.objects.filter(provider="stripe", direction="inbound", success=False)


def warnings(caplog):
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


# Windows are numbered from the epoch: a fixed clock keeps a slow run inside one of them.
WINDOW_START = 60 * 29_000_000.0


def test_a_thousand_forged_deliveries_make_one_row_and_one_warning(client, caplog):
    caplog.set_level(logging.INFO)

    with mock.patch.object(recording.time, "time", return_value=WINDOW_START):
        assert forge(client, 1000) == [400] * 1000

    [row] = refusal_rows()
    assert row.error_code == "verification_failed"
    assert row.status_code == 400
    assert row.request_summary["refused"] == 1  # the first of its window, recorded at once
    assert len(warnings(caplog)) == 1
    # The 999 others are counted, and the status report shows all of them.
    assert service_status(StripeClient)["refused_deliveries"] == {"verification_failed": 1000}


def test_the_next_window_records_the_count_of_the_last(client, caplog, settings):
    settings.PATCHBAY_REFUSED_WEBHOOK_WINDOW = 60
    caplog.set_level(logging.WARNING)
    with mock.patch.object(recording.time, "time", return_value=WINDOW_START):
        forge(client, 300)
    with mock.patch.object(recording.time, "time", return_value=WINDOW_START + 61):
        forge(client, 1)

    first, second = refusal_rows().order_by("id")
    assert (first.request_summary["refused"], second.request_summary["refused"]) == (1, 300)
    assert second.request_summary["window_seconds"] == 60
    assert len(warnings(caplog)) == 2
    assert "299 more" in warnings(caplog)[1].getMessage()
    assert service_status(StripeClient)["refused_deliveries"] == {"verification_failed": 301}


def test_each_reason_has_its_own_window(client, settings):
    forge(client, 5)
    settings.PATCHBAY_WEBHOOK_MAX_BODY_SIZE = 10
    forge(client, 5)

    assert sorted(refusal_rows().values_list("error_code", flat=True)) == [
        "body_too_large",
        "verification_failed",
    ]
    assert service_status(StripeClient)["refused_deliveries"] == {
        "body_too_large": 5,
        "verification_failed": 5,
    }


def test_a_window_of_zero_records_every_refusal(client, settings):
    settings.PATCHBAY_REFUSED_WEBHOOK_WINDOW = 0
    forge(client, 5)

    assert refusal_rows().count() == 5
    assert [row.request_summary["refused"] for row in refusal_rows()] == [1] * 5


def test_accepted_deliveries_are_each_recorded(client):
    from patchbay.testing import sign_stripe_payload

    for number in range(3):
        body = json.dumps({"id": f"evt_{number}", "type": "unhandled.kind", "data": {}})
        response = client.post(
            STRIPE_URL,
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": sign_stripe_payload(body)},
        )
        assert response.status_code == 200
    assert IntegrationLog.objects.filter(provider="stripe", success=True).count() == 3


def test_when_the_cache_is_down_refusals_are_still_bounded(client):
    with mock.patch.object(recording, "_shared_cache", side_effect=ConnectionError("down")):
        assert forge(client, 50) == [400] * 50

    assert refusal_rows().count() == 1


def test_the_status_command_shows_the_counts(client, capsys):
    forge(client, 7)

    call_command("patchbay_status")

    assert "refused deliveries (24 h): verification_failed 7" in capsys.readouterr().out
