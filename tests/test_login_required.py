"""Under Django's LoginRequiredMiddleware, what must work without a session still does.

Providers post webhooks without a session, a sign-in link is opened by
someone not signed in yet, the simulated Checkout and bucket stand in for
pages of other sites: each of these views is marked ``login_not_required``.
The whole suite also runs once with the middleware on
(``PATCHBAY_TEST_LOGIN_REQUIRED=1``, see tests/settings.py).
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, reverse

from patchbay import urls as patchbay_urls
from patchbay.aws.shortcuts import get_direct_upload_form_data
from patchbay.loops.login import create_login_token
from patchbay.models import SMS, EmailEvent, WebhookEvent
from patchbay.stripe.client import StripeClient
from patchbay.testing import (
    loops_event,
    post_loops_event,
    post_presigned_form,
    post_stripe_event,
    post_twilio_inbound,
    post_twilio_status,
    stripe_event,
)
from tests.webhook_views import SECRET as PIPELINE_SECRET

pytestmark = pytest.mark.django_db

LOGIN_REQUIRED_MIDDLEWARE = "django.contrib.auth.middleware.LoginRequiredMiddleware"
# The patchbay views that need a user: staff only.
NEEDS_LOGIN = {"status", "dashboard"}


@pytest.fixture(autouse=True)
def login_required(settings):
    """The middleware on, after AuthenticationMiddleware, as Django's docs place it."""
    if LOGIN_REQUIRED_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, LOGIN_REQUIRED_MIDDLEWARE]
    settings.PATCHBAY_SIMULATE = True  # the helpers sign with the simulation secrets


@pytest.mark.parametrize("name", sorted(NEEDS_LOGIN))
def test_the_staff_views_still_need_a_login(client, name):
    response = client.get(reverse(f"patchbay:{name}"))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")  # staff_member_required's


@pytest.mark.parametrize(
    "pattern",
    [p for p in patchbay_urls.urlpatterns if isinstance(p, URLPattern)],
    ids=lambda pattern: pattern.name,
)
def test_every_public_view_is_marked_through_its_lazy_wrapper(pattern):
    # What the middleware reads, on what the resolver gives it (the LazyView).
    required = getattr(pattern.callback, "login_required", True)

    assert required is (pattern.name in NEEDS_LOGIN)


def test_a_stripe_webhook_is_accepted_without_a_session(client):
    response = post_stripe_event(client, stripe_event("customer.created", {"id": "cus_1"}))

    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.filter(provider="stripe").exists()


def test_a_twilio_status_callback_is_accepted_without_a_session(client):
    sms = SMS.objects.create(
        to_number="+14155552671", body="Hi", external_id="SM" + "1" * 32, status="queued"
    )

    response = post_twilio_status(client, sms.external_id, "delivered")

    assert response.status_code == 200, response.content
    sms.refresh_from_db()
    assert sms.status == "delivered"


def test_a_twilio_inbound_message_is_accepted_without_a_session(client):
    response = post_twilio_inbound(client, "+14155552671", "Hello")

    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.filter(provider="twilio").exists()


def test_a_loops_webhook_is_accepted_without_a_session(client):
    response = post_loops_event(client, loops_event("email.delivered", "ada@example.com"))

    assert response.status_code == 200, response.content
    assert EmailEvent.objects.filter(email="ada@example.com").exists()


@pytest.mark.urls("tests.webhook_views")
def test_an_endpoint_of_your_own_inherits_the_marker(client):
    """A WebhookView subclass of a project or a third-party app needs no decorator."""
    from patchbay.testing import post_signed_webhook

    response = post_signed_webhook(
        client,
        "/hook/",
        {"id": "evt_1", "type": "thing.happened"},
        secret=PIPELINE_SECRET,
        prefix="",
    )

    assert response.status_code == 200, response.content


def test_a_sign_in_link_signs_in_without_a_session(client):
    user = get_user_model().objects.create_user("ada", "ada@example.com", "a-password")
    token, _ = create_login_token(user, "/welcome/")

    response = client.post(reverse("patchbay:magic-link-login", args=[token]))

    assert response.status_code == 302
    assert response["Location"] == "/welcome/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_used_sign_in_link_answers_its_own_page(client):
    response = client.get(reverse("patchbay:magic-link-login", args=["not-a-token"]))

    assert response.status_code == 400


def test_the_simulated_checkout_opens_without_a_session(client):
    result = StripeClient().create_checkout_session(
        "price_123", "https://example.com/done", "https://example.com/cancel"
    )
    assert result["success"], result

    response = client.get(result["session"]["url"])

    assert response.status_code == 200


def test_the_simulated_bucket_takes_an_upload_without_a_session(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    form = get_direct_upload_form_data("notes.txt", content_type="text/plain")
    assert form["success"], form

    response = post_presigned_form(client, form["form_url"], form["form_fields"], b"hello")

    assert response.status_code in {200, 201, 204}, response.content
    stored = client.get(form["file_url"])
    assert stored.status_code == 200
    assert b"".join(stored.streaming_content) == b"hello"
    stored.close()


def test_phone_verification_starts_and_checks_without_a_session(client):
    number = {"phone_number": "+14155552671"}
    started = client.post(reverse("patchbay:phone-verification-start"), number)
    checked = client.post(
        reverse("patchbay:phone-verification-check"),
        {**number, "code": "x"},  # malformed: never the code sent
    )

    assert started.status_code == 200, started.content
    assert checked.status_code == 400  # a wrong code: the view answered, no redirect
    assert json.loads(checked.content)["error_code"] == "invalid_code"


def test_uploads_open_to_visitors_work_without_a_session(client, settings):
    settings.PATCHBAY_UPLOADS_LOGIN_REQUIRED = False

    response = client.post(
        reverse("patchbay:upload-credentials"), {"filename": "a.png", "content_type": "image/png"}
    )

    assert response.status_code == 200, response.content
    assert "upload_id" in json.loads(response.content)


def test_uploads_for_users_only_answer_in_json_not_with_a_redirect(client, settings):
    settings.PATCHBAY_UPLOADS_LOGIN_REQUIRED = True

    response = client.post(reverse("patchbay:upload-credentials"), {"filename": "a.png"})

    assert response.status_code == 403
    assert json.loads(response.content)["error"] == "Sign in to upload files."
