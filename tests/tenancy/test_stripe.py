"""Stripe per tenant: each tenant's calls, rows, webhooks and simulated Checkout are its own."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from django.urls import reverse

from patchbay.models import IntegrationLog, StripeCustomer, StripeSubscription, WebhookEvent
from patchbay.stripe import shortcuts
from patchbay.stripe.client import StripeClient, _sdk_client
from patchbay.tenancy import use_tenant
from patchbay.testing import sign_stripe_payload, stripe_event
from tests.tenancy.services import connect, endpoint_path

API = "https://api.stripe.com/v1"
SITE_KEY = "sk_test_site_0123456789abcdef"
ACME_KEY = "sk_test_acme_0123456789abcdef"
GLOBEX_KEY = "sk_test_globex_0123456789abcd"
ACME_SECRET = "whsec_acme_0123456789"
GLOBEX_SECRET = "whsec_globex_0123456789"


@pytest.fixture
def accounts(settings, acme, globex):
    """Live Stripe: the site's keys in settings, each tenant's own in its row."""
    settings.PATCHBAY_SIMULATE = False
    settings.PATCHBAY_MAX_RETRIES = 0
    settings.STRIPE_API_KEY = SITE_KEY
    settings.STRIPE_WEBHOOK_SECRET = "whsec_site_0123456789"
    connect(acme, "stripe", api_key=ACME_KEY, webhook_secret=ACME_SECRET)
    connect(globex, "stripe", api_key=GLOBEX_KEY, webhook_secret=GLOBEX_SECRET)
    _sdk_client.cache_clear()
    yield
    _sdk_client.cache_clear()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


def bearer(call):
    return call.request.headers["Authorization"].removeprefix("Bearer ")


def sent(call):
    return parse_qs(call.request.body if isinstance(call.request.body, str) else "")


def post_event(client, path, event, secret):
    body = json.dumps(event)
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": sign_stripe_payload(body, secret)},
    )


def subscription(sub_id="sub_1", customer="cus_1", status="active"):
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {},
        "items": {"data": [{"price": {"id": "price_pro"}, "current_period_end": 1_900_000_000}]},
    }


@pytest.mark.usefixtures("accounts")
class TestCalls:
    @responses.activate
    def test_each_tenant_calls_with_its_own_key_and_keeps_its_own_customer(
        self, user, acme, globex
    ):
        responses.post(f"{API}/customers", json={"id": "cus_acme", "object": "customer"})
        responses.post(f"{API}/customers", json={"id": "cus_globex", "object": "customer"})

        first = shortcuts.create_customer_from_user(user, tenant=acme)
        second = shortcuts.create_customer_from_user(user, tenant=globex)
        again = shortcuts.create_customer_from_user(user, tenant=acme)

        assert [bearer(call) for call in responses.calls] == [ACME_KEY, GLOBEX_KEY]
        assert (first["created"], second["created"], again["created"]) == (True, True, False)
        assert again["customer"]["id"] == "cus_acme"
        rows = StripeCustomer.objects.order_by("customer_id")
        assert [(row.customer_id, row.tenant_key) for row in rows] == [
            ("cus_acme", str(acme.pk)),
            ("cus_globex", str(globex.pk)),
        ]
        logs = IntegrationLog.objects.filter(provider="stripe").order_by("id")
        assert [log.tenant_key for log in logs] == [str(acme.pk), str(globex.pk)]

    @responses.activate
    def test_the_current_tenant_is_used_without_an_argument(self, user, globex):
        responses.post(f"{API}/customers", json={"id": "cus_globex", "object": "customer"})

        with use_tenant(globex):
            result = shortcuts.create_customer_from_user(user)

        assert result["success"], result
        assert bearer(responses.calls[0]) == GLOBEX_KEY
        assert StripeCustomer.objects.get().tenant_key == str(globex.pk)

    @responses.activate
    def test_no_tenant_is_tenant_required_and_never_the_sites_key(self, user):
        result = shortcuts.create_customer_from_user(user)

        assert (result["success"], result["error_code"]) == (False, "tenant_required")
        assert len(responses.calls) == 0
        assert not StripeCustomer.objects.exists()

    @responses.activate
    def test_checkout_reuses_the_customer_of_its_own_tenant_only(self, user, acme, globex):
        StripeCustomer.objects.create(tenant=acme, user=user, customer_id="cus_acme")
        responses.post(f"{API}/checkout/sessions", json={"id": "cs_1", "url": "https://c/x"})

        result = shortcuts.create_checkout_session("price_1", user=user, tenant=globex)

        assert result["success"], result
        body = sent(responses.calls[0])
        assert "customer" not in body
        assert body["customer_email"] == ["ada@example.com"]
        assert bearer(responses.calls[0]) == GLOBEX_KEY

    @responses.activate
    def test_cancel_changes_the_subscription_of_its_tenant_only(self, acme, globex):
        for tenant in (acme, globex):
            StripeSubscription.objects.create(
                tenant=tenant, subscription_id="sub_1", customer_id="cus_1", status="active"
            )
        responses.post(
            f"{API}/subscriptions/sub_1",
            json={"id": "sub_1", "status": "active", "cancel_at_period_end": True},
        )

        result = shortcuts.cancel_user_subscription("sub_1", tenant=acme)

        assert result["success"], result
        assert bearer(responses.calls[0]) == ACME_KEY
        rows = {row.tenant_key: row for row in StripeSubscription.objects.all()}
        assert rows[str(acme.pk)].cancel_at_period_end is True
        assert rows[str(globex.pk)].cancel_at_period_end is False

    @responses.activate
    def test_one_tenants_failing_stripe_opens_its_breaker_only(self, settings, user, acme, globex):
        settings.PATCHBAY_BREAKER_THRESHOLD = 2
        failing = {"error": {"type": "api_error", "message": "Stripe is down"}}
        responses.post(f"{API}/customers", json=failing, status=500)
        for _ in range(3):
            shortcuts.create_customer_from_user(user, tenant=acme)
        calls_to_acme = len(responses.calls)
        responses.replace(
            responses.POST, f"{API}/customers", json={"id": "cus_g", "object": "customer"}
        )

        held = shortcuts.create_customer_from_user(user, tenant=acme)
        sent = shortcuts.create_customer_from_user(user, tenant=globex)

        assert calls_to_acme == 2
        assert held["error_code"] == "circuit_open"
        assert sent["success"], sent
        assert bearer(responses.calls[-1]) == GLOBEX_KEY

    def test_active_subscription_is_looked_up_in_the_tenant(self, user, acme, globex):
        sub = StripeSubscription.objects.create(
            tenant=acme, user=user, subscription_id="sub_1", customer_id="c", status="active"
        )

        assert shortcuts.get_active_subscription(user, tenant=acme) == sub
        assert shortcuts.get_active_subscription(user, tenant=globex) is None

    def test_a_tenants_client_verifies_with_its_own_secret(self, acme, globex):
        body = json.dumps(stripe_event("customer.created", {"id": "cus_1"}))
        header = sign_stripe_payload(body, ACME_SECRET)

        mine = shortcuts.handle_webhook_event(body, header, tenant=acme)
        theirs = shortcuts.handle_webhook_event(body, header, tenant=globex)

        assert (mine["verified"], theirs["verified"]) == (True, False)
        assert repr(StripeClient(tenant=acme)).count(str(acme.pk)) == 1


@pytest.mark.usefixtures("accounts")
class TestWebhooks:
    def test_an_event_to_a_tenants_url_is_stored_and_applied_for_it(self, client, acme):
        path = endpoint_path("stripe-webhook", acme, "stripe")
        event = stripe_event("customer.subscription.created", subscription(), event_id="evt_1")

        response = post_event(client, path, event, ACME_SECRET)

        assert response.status_code == 200, response.content
        stored = WebhookEvent.objects.get()
        assert (stored.tenant_key, stored.status) == (str(acme.pk), "processed")
        assert StripeSubscription.objects.get().tenant_key == str(acme.pk)

    def test_another_tenants_signature_is_refused(self, client, acme, globex):
        event = stripe_event("customer.subscription.created", subscription())
        globex_path = endpoint_path("stripe-webhook", globex, "stripe")

        to_globex = post_event(client, globex_path, event, ACME_SECRET)
        to_site = post_event(client, reverse("patchbay:stripe-webhook"), event, ACME_SECRET)

        assert (to_globex.status_code, to_site.status_code) == (400, 400)
        assert not WebhookEvent.objects.exists()
        assert not StripeSubscription.objects.exists()

    def test_the_same_event_to_two_tenants_is_stored_and_applied_twice(self, client, acme, globex):
        event = stripe_event("customer.subscription.created", subscription(), event_id="evt_1")

        for tenant, secret in ((acme, ACME_SECRET), (globex, GLOBEX_SECRET)):
            path = endpoint_path("stripe-webhook", tenant, "stripe")
            response = post_event(client, path, event, secret)
            assert response.json()["duplicate"] is False

        assert sorted(WebhookEvent.objects.values_list("tenant_key", flat=True)) == sorted(
            [str(acme.pk), str(globex.pk)]
        )
        assert StripeSubscription.objects.filter(subscription_id="sub_1").count() == 2

    def test_a_checkout_links_the_customer_in_its_tenant(self, client, user, acme, globex):
        StripeCustomer.objects.create(tenant=globex, user=user, customer_id="cus_g")
        session = {
            "id": "cs_1",
            "object": "checkout.session",
            "customer": "cus_a",
            "client_reference_id": str(user.pk),
            "customer_email": "ada@example.com",
        }
        path = endpoint_path("stripe-webhook", acme, "stripe")

        post_event(client, path, stripe_event("checkout.session.completed", session), ACME_SECRET)

        rows = {row.tenant_key: row for row in StripeCustomer.objects.all()}
        assert (rows[str(acme.pk)].customer_id, rows[str(acme.pk)].user) == ("cus_a", user)
        assert (rows[str(globex.pk)].customer_id, rows[str(globex.pk)].user) == ("cus_g", user)


def test_a_simulated_checkout_pays_to_its_tenants_endpoint(client, settings, acme, globex, user):
    settings.PATCHBAY_SIMULATE = True
    connect(acme, "stripe", webhook_secret=ACME_SECRET)
    connect(globex, "stripe", webhook_secret=GLOBEX_SECRET)
    result = shortcuts.create_subscription_checkout("price_pro", user=user, tenant=acme)
    assert result["success"], result
    page = urlparse(result["session"]["url"]).path

    response = client.post(page, {"action": "pay"})

    assert response.status_code == 302, response.content
    assert set(WebhookEvent.objects.values_list("tenant_key", flat=True)) == {str(acme.pk)}
    sub = StripeSubscription.objects.get()
    assert (sub.tenant_key, sub.user, sub.status) == (str(acme.pk), user, "active")
    assert shortcuts.get_active_subscription(user, tenant=globex) is None
    # Paid once, for that tenant: the page says so.
    assert client.get(page).context["completed"] is True


@pytest.mark.parametrize("tenant", [object(), "x" * 65, "a\x00b", 1.5])
def test_a_tenant_argument_that_names_no_tenant_is_refused(tenant, user, acme):
    result = shortcuts.create_customer_from_user(user, tenant=tenant)

    assert (result["success"], result["error_code"]) == (False, "invalid_request")
    assert shortcuts.get_active_subscription(user, tenant=tenant) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only", "accounts")
def test_two_tenants_same_event_in_parallel_never_cross(acme, globex):
    from django.test import Client

    from tests.conftest import run_concurrently

    event = stripe_event("customer.subscription.created", subscription(), event_id="evt_p")
    targets = [
        (endpoint_path("stripe-webhook", tenant, "stripe"), secret)
        for tenant, secret in ((acme, ACME_SECRET), (globex, GLOBEX_SECRET))
    ] * 4
    queue = list(targets)
    lock = threading.Lock()

    def deliver():
        with lock:
            path, secret = queue.pop()
        return post_event(Client(), path, event, secret).status_code

    assert run_concurrently(deliver, len(targets)) == [200] * len(targets)
    assert sorted(WebhookEvent.objects.values_list("tenant_key", flat=True)) == sorted(
        [str(acme.pk), str(globex.pk)]
    )
    rows = StripeSubscription.objects.filter(subscription_id="sub_1")
    assert sorted(rows.values_list("tenant_key", flat=True)) == sorted(
        [str(acme.pk), str(globex.pk)]
    )
