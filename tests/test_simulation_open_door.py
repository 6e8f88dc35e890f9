"""Simulation is never an open door (issue 14, finding 1).

Simulated deliveries are signed with secrets written in patchbay's source. A
site that simulates with ``DEBUG`` off (``PATCHBAY_SIMULATE = True`` in its
settings) used to accept them from anyone: a forged subscription, a forged
STOP, a forged hard bounce. Here the attacker signs with those public secrets
exactly as they read them in the source.

Django's test runner (and pytest-django) turn ``DEBUG`` off for every test,
so patchbay treats the test environment as a developer's machine. The
``server`` fixture takes it away: the process is then what a deployed
server's is, with no test runner around it.
"""

from __future__ import annotations

import pytest
from django.test import utils as test_utils

from patchbay import checks
from patchbay.loops.shortcuts import send_template
from patchbay.loops.signature import LoopsWebhookVerifier
from patchbay.loops.webhooks import SIMULATION_SECRET as LOOPS_PUBLIC_SECRET
from patchbay.models import (
    SMS,
    EmailEvent,
    EmailSuppression,
    PhoneOptOut,
    StripeSubscription,
    WebhookEvent,
)
from patchbay.stripe import shortcuts as stripe_shortcuts
from patchbay.stripe.simulation import WEBHOOK_SECRET as STRIPE_PUBLIC_SECRET
from patchbay.testing import post_loops_event, post_stripe_event, post_twilio_inbound, stripe_event
from patchbay.twilio.shortcuts import send_sms
from patchbay.twilio.webhooks import SIMULATION_AUTH_TOKEN as TWILIO_PUBLIC_TOKEN
from patchbay.webhooks.verification import VerifiedDelivery, WebhookVerifier

pytestmark = pytest.mark.django_db

ADMIN_EMAIL = "admin@example.com"
VICTIM_NUMBER = "+14155550123"


@pytest.fixture
def server(monkeypatch):
    """This process as a deployed server's: no test environment around it."""
    monkeypatch.delattr(test_utils._TestState, "saved_data")


@pytest.fixture(params=["forced", "acknowledged"])
def simulating_without_debug(request, settings, server):
    """``PATCHBAY_SIMULATE = True`` with ``DEBUG = False``; acknowledged as staging or not."""
    settings.DEBUG = False
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_SIMULATE_WITHOUT_DEBUG = request.param == "acknowledged"
    return settings


@pytest.fixture
def staging(settings, server):
    """A staging site: simulation forced on, DEBUG off, acknowledged."""
    settings.DEBUG = False
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_SIMULATE_WITHOUT_DEBUG = True
    return settings


@pytest.fixture
def developing(settings, server):
    """A developer's machine: DEBUG on, simulation following it."""
    settings.DEBUG = True
    settings.PATCHBAY_SIMULATE = None
    return settings


def forged_subscription():
    return stripe_event(
        "customer.subscription.created",
        {
            "id": "sub_forged",
            "object": "subscription",
            "customer": "cus_attacker",
            "status": "active",
            "items": {"object": "list", "data": []},
            "current_period_end": 4102444800,
            "metadata": {},
        },
    )


def forged_hard_bounce():
    return {
        "eventName": "email.hardBounced",
        "eventTime": 1700000000,
        "webhookSchemaVersion": "1.0.0",
        "contactIdentity": {"id": "c_1", "email": ADMIN_EMAIL, "userId": None},
        "email": {"id": "e_1", "emailMessageId": "m_1", "subject": "Hi"},
    }


# -- the attacks, each refused -------------------------------------------------------------


@pytest.mark.usefixtures("simulating_without_debug")
class TestForgedDeliveriesAreRefused:
    def test_a_forged_subscription(self, client):
        response = post_stripe_event(client, forged_subscription(), secret=STRIPE_PUBLIC_SECRET)

        assert response.status_code == 400
        assert "error" in response.json()
        assert not StripeSubscription.objects.exists()
        assert not WebhookEvent.objects.exists()

    def test_a_forged_stop(self, client):
        response = post_twilio_inbound(client, VICTIM_NUMBER, "STOP", token=TWILIO_PUBLIC_TOKEN)

        assert response.status_code == 400
        assert "error" in response.json()
        assert not PhoneOptOut.objects.exists()
        assert not SMS.objects.exists()

    def test_a_forged_hard_bounce(self, client):
        response = post_loops_event(client, forged_hard_bounce(), secret=LOOPS_PUBLIC_SECRET)

        assert response.status_code == 400
        assert "error" in response.json()
        assert not EmailSuppression.objects.exists()
        assert not EmailEvent.objects.exists()

    def test_a_public_secret_configured_by_mistake_counts_for_nothing(self, client, settings):
        settings.STRIPE_WEBHOOK_SECRET = STRIPE_PUBLIC_SECRET
        settings.TWILIO_AUTH_TOKEN = TWILIO_PUBLIC_TOKEN
        settings.LOOPS_WEBHOOK_SECRET = LOOPS_PUBLIC_SECRET

        stripe = post_stripe_event(client, forged_subscription(), secret=STRIPE_PUBLIC_SECRET)
        stop = post_twilio_inbound(client, VICTIM_NUMBER, "STOP", token=TWILIO_PUBLIC_TOKEN)
        bounce = post_loops_event(client, forged_hard_bounce(), secret=LOOPS_PUBLIC_SECRET)

        assert [stripe.status_code, stop.status_code, bounce.status_code] == [400, 400, 400]
        assert not StripeSubscription.objects.exists()
        assert not PhoneOptOut.objects.exists()
        assert not EmailSuppression.objects.exists()


def test_the_public_secrets_are_refused_with_debug_off(simulating_without_debug):
    from patchbay.core.simulation import simulation_secrets_accepted

    assert not simulation_secrets_accepted()


# -- the check -----------------------------------------------------------------------------


def test_simulation_forced_on_with_debug_off_is_an_error(settings, server):
    settings.DEBUG = False
    settings.PATCHBAY_SIMULATE = True

    [message] = checks.check_simulation()

    assert message.id == "patchbay.E031"
    assert message.is_serious()
    assert "forge" in message.msg
    assert "PATCHBAY_SIMULATE_WITHOUT_DEBUG" in message.hint


def test_testing_true_with_debug_off_is_the_same_error(settings, server):
    settings.DEBUG = False
    settings.TESTING = True

    assert [message.id for message in checks.check_simulation()] == ["patchbay.E031"]


def test_a_staging_site_acknowledges_it(staging):
    assert checks.check_simulation() == []


def test_no_error_with_debug_on_or_simulation_off(settings, server):
    settings.PATCHBAY_SIMULATE = True
    settings.DEBUG = True
    assert checks.check_simulation() == []
    settings.DEBUG = False
    settings.PATCHBAY_SIMULATE = False
    assert checks.check_simulation() == []


def test_no_error_in_a_test_run(settings):
    # Django's test runner turns DEBUG off before it runs the checks.
    settings.DEBUG = False
    settings.PATCHBAY_SIMULATE = True
    from patchbay.core.simulation import in_test_environment

    assert in_test_environment()
    assert checks.check_simulation() == []


def test_outside_a_test_run_there_is_no_test_environment(server):
    from patchbay.core.simulation import in_test_environment

    assert not in_test_environment()


# -- with DEBUG on, simulation works end to end --------------------------------------------


@pytest.mark.usefixtures("developing")
class TestWithDebugOnSimulationStillDelivers:
    def test_the_public_secrets_are_accepted(self):
        from patchbay.core.simulation import simulation_secrets_accepted

        assert simulation_secrets_accepted()

    def test_simulated_checkout_activates_the_subscription(self, client, django_user_model):
        user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
        session = stripe_shortcuts.create_subscription_checkout("price_pro", user=user)["session"]

        assert client.post(session["url"], {"action": "pay"}).status_code == 302
        assert StripeSubscription.objects.get().status == "active"

    def test_a_simulated_sms_is_delivered(self):
        result = send_sms("+14155550100", "Hello")

        assert result["success"]
        assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"

    def test_a_simulated_email_reports_its_delivery(self):
        assert send_template("welcome", "ada@example.com", {})["success"]

        assert set(EmailEvent.objects.values_list("kind", flat=True)) == {
            EmailEvent.SENT,
            EmailEvent.DELIVERED,
        }

    def test_a_simulation_signed_delivery_from_the_developer_passes(self, client):
        response = post_twilio_inbound(client, VICTIM_NUMBER, "STOP", token=TWILIO_PUBLIC_TOKEN)

        assert response.status_code == 200
        assert PhoneOptOut.objects.filter(phone_number=VICTIM_NUMBER).exists()


# -- staging: simulated deliveries are signed with the configured secrets, or not made -----


@pytest.fixture
def staging_secrets(staging):
    staging.STRIPE_WEBHOOK_SECRET = "whsec_staging_0123456789"
    staging.TWILIO_AUTH_TOKEN = "staging-twilio-auth-token"
    staging.LOOPS_WEBHOOK_SECRET = "whsec_c3RhZ2luZy1sb29wcy13ZWJob29rLXNlY3JldA=="
    return staging


class TestStagingWithSecrets:
    def test_simulated_checkout_signs_with_the_configured_secret(
        self, client, django_user_model, staging_secrets
    ):
        user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
        session = stripe_shortcuts.create_subscription_checkout("price_pro", user=user)["session"]

        assert client.post(session["url"], {"action": "pay"}).status_code == 302
        assert StripeSubscription.objects.get().status == "active"

    def test_a_simulated_sms_is_delivered(self, staging_secrets):
        result = send_sms("+14155550100", "Hello")

        assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"

    def test_a_simulated_email_reports_its_delivery(self, staging_secrets):
        send_template("welcome", "ada@example.com", {})

        assert EmailEvent.objects.count() == 2


class TestStagingWithoutSecrets:
    def test_simulated_checkout_says_it_cannot_deliver(self, client, django_user_model, staging):
        user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
        session = stripe_shortcuts.create_subscription_checkout("price_pro", user=user)["session"]

        response = client.post(session["url"], {"action": "pay"})

        assert response.status_code == 503
        assert b"STRIPE_WEBHOOK_SECRET" in response.content
        assert not StripeSubscription.objects.exists()
        assert not WebhookEvent.objects.exists()

    def test_a_simulated_sms_is_sent_but_not_delivered(self, staging):
        result = send_sms("+14155550100", "Hello")

        assert result["success"]
        assert SMS.objects.get(pk=result["sms_id"]).status == "queued"
        assert not WebhookEvent.objects.exists()

    def test_a_simulated_email_is_sent_without_delivery_events(self, staging):
        assert send_template("welcome", "ada@example.com", {})["success"]

        assert not EmailEvent.objects.exists()
        assert not WebhookEvent.objects.exists()


# -- a verifier of another provider gets the decision for free -----------------------------


class AcmeVerifier(WebhookVerifier):
    simulation_secrets = ("acme-public-simulation-secret",)

    def __init__(self, secret: str | None) -> None:
        self.secrets = self.secrets_in_force(secret)

    def verify(self, request, body):
        return VerifiedDelivery("id", "type", {"secrets": self.secrets})


def test_a_third_party_verifier_checks_its_simulation_secret_only_while_accepted(settings, server):
    settings.PATCHBAY_SIMULATE = True
    settings.DEBUG = True
    assert AcmeVerifier(None).secrets == ["acme-public-simulation-secret"]
    assert AcmeVerifier("configured").secrets == ["configured"]

    settings.DEBUG = False
    assert AcmeVerifier(None).secrets == []
    assert AcmeVerifier("acme-public-simulation-secret").secrets == []
    assert AcmeVerifier("configured").secrets == ["configured"]


def test_patchbay_verifiers_declare_their_public_secrets():
    assert LoopsWebhookVerifier.simulation_secrets == (LOOPS_PUBLIC_SECRET,)
