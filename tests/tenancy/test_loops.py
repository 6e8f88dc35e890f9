"""Loops per tenant: its own API key, webhook secret and suppressions; tasks keep the tenant."""

from __future__ import annotations

import base64
import json

import pytest
import responses

from patchbay.core.signing import standard_webhook_headers
from patchbay.loops import shortcuts
from patchbay.models import EmailEvent, EmailSuppression, OutboundEmail, WebhookEvent
from tests.loops.helpers import loops_payload
from tests.tenancy.services import connect, endpoint_path

API = "https://app.loops.so/api/v1"
ACME_KEY, GLOBEX_KEY = "loops-acme-key-0123456789", "loops-globex-key-0123456789"
ACME_SECRET = "whsec_" + base64.b64encode(b"acme-loops-signing-secret-0123").decode()
GLOBEX_SECRET = "whsec_" + base64.b64encode(b"globex-loops-signing-secret-01").decode()
TEMPLATES = {"password_reset": "tpl_reset", "login_code": "tpl_login", "team_membership": "t"}


@pytest.fixture
def accounts(settings, acme, globex):
    settings.PATCHBAY_SIMULATE = False
    settings.PATCHBAY_MAX_RETRIES = 0
    settings.LOOPS_RETRY_BACKOFF = 0
    settings.LOOPS_API_KEY = "loops-site-key-0123456789"  # the site's, which no tenant may use
    settings.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
    connect(acme, "loops", api_key=ACME_KEY, webhook_secret=ACME_SECRET)
    connect(globex, "loops", api_key=GLOBEX_KEY, webhook_secret=GLOBEX_SECRET)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


def bearer(call):
    return call.request.headers["Authorization"].removeprefix("Bearer ")


def post_event(client, path, payload, secret):
    body = json.dumps(payload).encode()
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers=standard_webhook_headers(secret, body),
    )


pytestmark = pytest.mark.usefixtures("accounts")


@responses.activate
def test_each_tenant_sends_with_its_own_key(user, acme, globex):
    responses.post(f"{API}/transactional", json={"success": True})
    responses.post(f"{API}/transactional", json={"success": True})

    shortcuts.send_password_reset_email(user, "https://a/reset", tenant=acme)
    shortcuts.send_password_reset_email(user, "https://g/reset", tenant=globex)

    assert [bearer(call) for call in responses.calls] == [ACME_KEY, GLOBEX_KEY]


@responses.activate
def test_no_tenant_is_tenant_required():
    result = shortcuts.send_template("password_reset", "ada@example.com", {})

    assert (result["success"], result["error_code"]) == (False, "tenant_required")
    assert len(responses.calls) == 0


@responses.activate
def test_a_background_email_is_sent_for_its_rows_tenant(globex, django_capture_on_commit_callbacks):
    responses.post(f"{API}/transactional", json={"success": True})

    with django_capture_on_commit_callbacks(execute=True):
        queued = shortcuts.send_template(
            "password_reset", "ada@example.com", {}, background=True, tenant=globex
        )

    assert queued["queued"] is True
    assert [bearer(call) for call in responses.calls] == [GLOBEX_KEY]
    row = OutboundEmail.objects.get()
    assert (row.tenant_key, row.status) == (str(globex.pk), OutboundEmail.SENT)


@responses.activate
def test_a_bounce_to_one_tenant_suppresses_the_address_there_only(client, acme, globex):
    path = endpoint_path("loops-webhook", acme, "loops")

    response = post_event(client, path, loops_payload("email.hardBounced"), ACME_SECRET)

    assert response.status_code == 200, response.content
    assert EmailSuppression.objects.get().tenant_key == str(acme.pk)
    assert EmailEvent.objects.get().tenant_key == str(acme.pk)
    refused = shortcuts.send_template("password_reset", "ada@example.com", {}, tenant=acme)
    assert refused["error_code"] == "suppressed"
    responses.post(f"{API}/transactional", json={"success": True})
    sent = shortcuts.send_template("password_reset", "ada@example.com", {}, tenant=globex)
    assert sent["success"], sent


def test_another_tenants_signature_is_refused(client, acme, globex):
    path = endpoint_path("loops-webhook", globex, "loops")

    response = post_event(client, path, loops_payload("email.hardBounced"), ACME_SECRET)

    assert response.status_code in (400, 401, 403), response.content
    assert not WebhookEvent.objects.exists()
    assert not EmailSuppression.objects.exists()


def test_a_sign_in_link_asked_for_a_tenant_is_sent_for_it_after_the_response(settings, user, acme):
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"

    result = shortcuts.send_login_link_to_address("ada@example.com", tenant=acme)

    assert result == {"success": True}
    from patchbay.models import LoginToken

    token = LoginToken.objects.get()
    assert (token.tenant_key, token.user) == (str(acme.pk), user)
    # Simulated, Loops' events come back to the tenant's own endpoint.
    assert set(WebhookEvent.objects.values_list("tenant_key", flat=True)) == {str(acme.pk)}


def test_work_after_the_response_keeps_the_requests_tenant(settings, user, acme):
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    from patchbay.core.deferred import after_response_scope
    from patchbay.models import LoginToken
    from patchbay.tenancy import use_tenant

    # As a request through TenantMiddleware: the tenant is current while the view runs,
    # and no longer when the deferred send runs, after the response.
    with after_response_scope():
        with use_tenant(acme):
            shortcuts.send_login_link_to_address("ada@example.com")
        assert not LoginToken.objects.exists()

    assert LoginToken.objects.get().tenant_key == str(acme.pk)


def test_work_after_the_response_without_a_tenant_stays_tenant_required(settings, user, caplog):
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    from patchbay.core.deferred import after_response_scope
    from patchbay.models import LoginToken

    with after_response_scope():
        shortcuts.send_login_link_to_address("ada@example.com")

    assert not LoginToken.objects.exists()  # deleted: its email was refused
    assert "tenant_required" in caplog.text
