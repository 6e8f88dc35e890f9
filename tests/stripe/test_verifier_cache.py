"""The endpoint's verifier is made once per configuration, and never outlives it.

A delivery used to build its client's verifier anew (its secrets split and
filtered, the simulation decision taken): a few microseconds a delivery, for
a configuration that had not changed. It now lives on the shared
configuration (:func:`~patchbay.core.config.shared_config`), which is dropped
whenever a setting changes through Django or an ExternalService row is saved
or deleted: a rotated secret applies to the very next delivery.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from patchbay.core.config import forget_service_rows
from patchbay.models import ExternalService
from patchbay.stripe.client import StripeClient
from patchbay.stripe.signature import SIMULATION_SECRET
from tests.stripe.conftest import WEBHOOK_SECRET, make_event, post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_stripe")]

ROTATED = "whsec_rotated_0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh():
    forget_service_rows()
    yield
    forget_service_rows()


def deliver(client, secret, event_id):
    return post_event(
        client, make_event("product.created", {"id": "prod_1"}, event_id=event_id), secret
    )


def test_clients_of_one_configuration_share_its_verifier():
    assert StripeClient().webhook_verifier() is StripeClient().webhook_verifier()
    assert StripeClient(tenant="acme").webhook_verifier() is not StripeClient().webhook_verifier()


def test_a_secret_rotated_in_the_admin_applies_to_the_next_delivery(client):
    row, _ = ExternalService.objects.update_or_create(
        provider="stripe",
        tenant_key="",
        defaults={"name": "Stripe", "credentials": {"webhook_secret": WEBHOOK_SECRET}},
    )
    assert deliver(client, WEBHOOK_SECRET, "evt_1").status_code == 200

    row.credentials = {"webhook_secret": ROTATED}
    row.save()

    assert deliver(client, ROTATED, "evt_2").status_code == 200
    assert deliver(client, WEBHOOK_SECRET, "evt_3").status_code == 400
    row.delete()  # the setting's secret again
    assert deliver(client, WEBHOOK_SECRET, "evt_4").status_code == 200
    assert deliver(client, ROTATED, "evt_5").status_code == 400


def test_a_secret_changed_in_the_settings_applies_to_the_next_delivery(client):
    assert deliver(client, WEBHOOK_SECRET, "evt_1").status_code == 200

    with override_settings(STRIPE_WEBHOOK_SECRET=f"{ROTATED},whsec_second_0123456789"):
        assert deliver(client, ROTATED, "evt_2").status_code == 200
        assert deliver(client, "whsec_second_0123456789", "evt_3").status_code == 200
        assert deliver(client, WEBHOOK_SECRET, "evt_4").status_code == 400
        with override_settings(STRIPE_WEBHOOK_TOLERANCE=7):
            assert StripeClient().webhook_verifier().tolerance == 7

    assert deliver(client, WEBHOOK_SECRET, "evt_5").status_code == 200
    assert deliver(client, ROTATED, "evt_6").status_code == 400


def test_a_simulating_clients_verifier_never_serves_a_live_one(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert StripeClient(debug_mode=True).webhook_verifier().signing_secret == SIMULATION_SECRET
    assert StripeClient(debug_mode=False).webhook_verifier().signing_secret is None
    assert StripeClient(debug_mode=True).webhook_verifier().signing_secret == SIMULATION_SECRET
