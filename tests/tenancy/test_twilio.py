"""Twilio per tenant: its own account, status callback URL, opt-outs, codes and rows."""

from __future__ import annotations

import base64
import io
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection, transaction

from patchbay.models import SMS, PhoneOptOut, PhoneVerification, WebhookEvent
from patchbay.testing import post_twilio_inbound, post_twilio_status
from patchbay.twilio import shortcuts
from patchbay.twilio.client import _sdk_client
from patchbay.twilio.verification import initiate_phone_verification, verify_phone_code
from tests.tenancy.services import connect, endpoint_path

PUBLIC_URL = "https://app.example.com"
ACME_SID, ACME_TOKEN = "AC" + "a" * 32, "acme-auth-token-0123456789abcdef"
GLOBEX_SID, GLOBEX_TOKEN = "AC" + "b" * 32, "globex-auth-token-0123456789abcd"
ACME_FROM, GLOBEX_FROM = "+14155550101", "+14155550102"
TO = "+14155552671"


def messages_url(account_sid):
    return f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages.json"


def message_json(sid, account_sid, sender):
    return {"sid": sid, "status": "queued", "to": TO, "from": sender, "account_sid": account_sid}


def account_of(call):
    """The account SID of the Basic credentials a call was sent with."""
    scheme, _, encoded = call.request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(encoded).decode().partition(":")[0]


@pytest.fixture
def accounts(settings, acme, globex):
    settings.PATCHBAY_MAX_RETRIES = 0
    settings.PATCHBAY_PUBLIC_URL = PUBLIC_URL
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32  # the site's, which no tenant may use
    settings.TWILIO_AUTH_TOKEN = "site-auth-token-0123456789abcdef"
    connect(
        acme,
        "twilio",
        auth_token=ACME_TOKEN,
        options={"account_sid": ACME_SID, "from_number": ACME_FROM},
    )
    connect(
        globex,
        "twilio",
        auth_token=GLOBEX_TOKEN,
        options={"account_sid": GLOBEX_SID, "from_number": GLOBEX_FROM},
    )
    _sdk_client.cache_clear()
    yield
    _sdk_client.cache_clear()


@pytest.fixture
def live(settings, accounts):
    settings.PATCHBAY_SIMULATE = False


@pytest.fixture
def simulated(settings, accounts):
    settings.PATCHBAY_SIMULATE = True


@pytest.mark.usefixtures("live")
class TestLiveSends:
    @responses.activate
    def test_each_tenant_sends_from_its_account_with_its_status_callback(self, acme, globex):
        responses.post(messages_url(ACME_SID), json=message_json("SM1", ACME_SID, ACME_FROM))
        responses.post(messages_url(GLOBEX_SID), json=message_json("SM2", GLOBEX_SID, GLOBEX_FROM))

        first = shortcuts.send_sms(TO, "Hello", tenant=acme)
        second = shortcuts.send_sms(TO, "Hello", tenant=globex)

        assert first["success"], first
        assert second["success"], second
        assert [account_of(call) for call in responses.calls] == [ACME_SID, GLOBEX_SID]
        callbacks = [parse_qs(call.request.body)["StatusCallback"] for call in responses.calls]
        assert callbacks == [
            [PUBLIC_URL + endpoint_path("twilio-status-callback", acme, "twilio")],
            [PUBLIC_URL + endpoint_path("twilio-status-callback", globex, "twilio")],
        ]
        senders = [parse_qs(call.request.body)["From"] for call in responses.calls]
        assert senders == [[ACME_FROM], [GLOBEX_FROM]]
        rows = SMS.objects.order_by("id")
        assert [(row.external_id, row.tenant_key) for row in rows] == [
            ("SM1", str(acme.pk)),
            ("SM2", str(globex.pk)),
        ]

    @responses.activate
    def test_no_tenant_is_tenant_required(self):
        result = shortcuts.send_sms(TO, "Hello")

        assert (result["success"], result["error_code"]) == (False, "tenant_required")
        assert len(responses.calls) == 0

    @responses.activate
    def test_a_background_send_uses_its_rows_tenant(
        self, globex, django_capture_on_commit_callbacks
    ):
        responses.post(messages_url(GLOBEX_SID), json=message_json("SM9", GLOBEX_SID, GLOBEX_FROM))

        with django_capture_on_commit_callbacks(execute=True):
            queued = shortcuts.send_sms(TO, "Later", background=True, tenant=globex)

        assert queued["queued"] is True
        assert [account_of(call) for call in responses.calls] == [GLOBEX_SID]
        sms = SMS.objects.get()
        assert (sms.tenant_key, sms.external_id) == (str(globex.pk), "SM9")

    def test_another_tenants_message_is_not_found(self, acme, globex):
        sms = SMS.objects.create(tenant=acme, to_number=TO, status="delivered")

        assert shortcuts.get_sms_status(sms.pk, tenant=acme)["status"] == "delivered"
        assert shortcuts.get_sms_status(sms.pk, tenant=globex)["error_code"] == "not_found"


@pytest.mark.usefixtures("live")
class TestWebhooks:
    def test_a_status_callback_moves_the_message_of_its_tenant_only(self, client, acme, globex):
        for tenant in (acme, globex):
            SMS.objects.create(tenant=tenant, to_number=TO, external_id="SM1", status="sent")
        path = endpoint_path("twilio-status-callback", acme, "twilio")

        response = post_twilio_status(client, "SM1", "delivered", url=path, token=ACME_TOKEN)

        assert response.status_code == 200, response.content
        statuses = dict(SMS.objects.values_list("tenant_key", "status"))
        assert statuses == {str(acme.pk): "delivered", str(globex.pk): "sent"}
        assert WebhookEvent.objects.get().tenant_key == str(acme.pk)

    def test_another_tenants_signature_is_refused(self, client, acme, globex):
        SMS.objects.create(tenant=acme, to_number=TO, external_id="SM1", status="sent")
        path = endpoint_path("twilio-status-callback", acme, "twilio")

        response = post_twilio_status(client, "SM1", "delivered", url=path, token=GLOBEX_TOKEN)

        assert response.status_code in (400, 403), response.content
        assert SMS.objects.get().status == "sent"
        assert not WebhookEvent.objects.exists()

    @responses.activate
    def test_a_stop_opts_out_of_that_tenants_messages_only(self, client, acme, globex):
        path = endpoint_path("twilio-inbound", acme, "twilio")
        response = post_twilio_inbound(client, TO, "STOP", url=path, token=ACME_TOKEN)
        assert response.status_code == 200, response.content
        responses.post(messages_url(GLOBEX_SID), json=message_json("SM2", GLOBEX_SID, GLOBEX_FROM))

        refused = shortcuts.send_sms(TO, "Hello", tenant=acme)
        sent = shortcuts.send_sms(TO, "Hello", tenant=globex)

        assert refused["error_code"] == "opted_out"
        assert sent["success"], sent
        assert PhoneOptOut.objects.get().tenant_key == str(acme.pk)
        inbound = SMS.objects.get(direction=SMS.DIRECTION_INBOUND)
        assert inbound.tenant_key == str(acme.pk)


@pytest.mark.usefixtures("simulated")
class TestSimulated:
    def test_status_callbacks_reach_the_tenants_endpoint(self, globex):
        result = shortcuts.send_sms(TO, "Hello", tenant=globex)

        assert result["success"], result
        sms = SMS.objects.get(pk=result["sms_id"])
        assert (sms.tenant_key, sms.status) == (str(globex.pk), "delivered")
        events = WebhookEvent.objects.filter(provider="twilio")
        assert events.count() == 3
        assert set(events.values_list("tenant_key", flat=True)) == {str(globex.pk)}

    def test_the_tenants_endpoint_is_found_once_per_send(self, globex, monkeypatch):
        from patchbay import tenancy

        looked_up = []
        find = tenancy.webhook_path

        def counting(url_name, tenant):
            looked_up.append(url_name)
            return find(url_name, tenant)

        monkeypatch.setattr(tenancy, "webhook_path", counting)
        monkeypatch.setattr("patchbay.webhooks.loopback.webhook_path", counting)
        result = shortcuts.send_sms(TO, "Hello", tenant=globex)
        assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"
        # A query each (the tenant's ExternalService row): once for the three callbacks.
        assert looked_up == ["twilio-status-callback"]

    def test_a_tenants_simulated_send_in_a_transaction_makes_5_queries_more(
        self, globex, django_assert_num_queries
    ):
        shortcuts.send_sms(TO, "first", tenant=globex)  # the first marks the service, once
        # The site's 15 (18 on SQLite, see tests/twilio/test_simulated_round_trips.py), and
        # the tenant's ExternalService row, read for the status callback URL the client
        # sends and for the callbacks' endpoint, and by the endpoint's view for each
        # callback (its endpoint UUID names the tenant).
        site = 15 if connection.vendor == "postgresql" else 18
        with transaction.atomic(), django_assert_num_queries(site + 5):
            result = shortcuts.send_sms(TO, "hi", tenant=globex)
        assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"

    def test_a_code_sent_for_one_tenant_is_checked_in_it_only(self, acme, globex, monkeypatch):
        monkeypatch.setattr("patchbay.twilio.codes.generate_code", lambda: "123456")

        started = initiate_phone_verification(TO, tenant=acme)

        assert started["success"], started
        assert PhoneVerification.objects.get().tenant_key == str(acme.pk)
        assert verify_phone_code(TO, "123456", tenant=globex)["error_code"] == "no_pending_code"
        assert verify_phone_code(TO, "123456", tenant=acme)["verified"] is True


@pytest.mark.usefixtures("live")
@responses.activate
def test_reconcile_fetches_each_message_from_its_tenants_account(acme, globex):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    for tenant, account in ((acme, ACME_SID), (globex, GLOBEX_SID)):
        SMS.objects.create(tenant=tenant, to_number=TO, external_id="SM1", status="sent")
        responses.get(
            f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/SM1.json",
            json={**message_json("SM1", account, ACME_FROM), "status": "delivered"},
        )
    SMS.objects.update(created_at=timezone.now() - timedelta(hours=2))

    call_command("patchbay_twilio_reconcile", stdout=io.StringIO(), stderr=io.StringIO())

    assert sorted(account_of(call) for call in responses.calls) == sorted([ACME_SID, GLOBEX_SID])
    assert set(SMS.objects.values_list("status", flat=True)) == {"delivered"}
