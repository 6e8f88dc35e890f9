"""A project that did not mount ``patchbay.urls``: a check says so, and calls fail clearly.

Every client or shortcut that needs one of patchbay's URLs returns
``error_code="urls_not_mounted"`` naming the fix, never an exception.
"""

from __future__ import annotations

import io

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from patchbay import checks
from patchbay.aws.s3 import S3Client
from patchbay.models import SMS, IntegrationLog, LoginToken
from patchbay.stripe.client import StripeClient
from patchbay.twilio import shortcuts as twilio_shortcuts
from patchbay.twilio.client import TwilioClient
from tests.loops.helpers import TEMPLATES

pytestmark = pytest.mark.django_db

MOUNT = 'path("integrations/", include("patchbay.urls"))'


@pytest.fixture
def unmounted(settings):
    settings.ROOT_URLCONF = "tests.urls_without_patchbay"
    return settings


@pytest.fixture
def simulated(unmounted, tmp_path):
    unmounted.PATCHBAY_SIMULATE = True
    unmounted.MEDIA_ROOT = str(tmp_path)
    return unmounted


def assert_not_mounted(result):
    assert result["success"] is False
    assert result["error_code"] == "urls_not_mounted"
    assert MOUNT in result["error"]


# -- the check ------------------------------------------------------------------------------


def test_e020_urls_not_mounted(unmounted):
    (message,) = checks.check_urls_mounted()
    assert message.id == "patchbay.E020"
    assert MOUNT in message.hint


def test_e020_silent_when_mounted():
    assert checks.check_urls_mounted() == []


def test_e020_is_registered(unmounted):
    with pytest.raises(SystemCheckError, match=r"patchbay\.E020"):
        call_command("check", "--tag", "patchbay")


# -- Stripe ---------------------------------------------------------------------------------


def test_simulated_checkout_fails_with_the_fix(simulated):
    result = StripeClient().create_checkout_session(
        "price_1", "https://a.test/ok", "https://a.test/no"
    )

    assert_not_mounted(result)
    assert IntegrationLog.objects.get(operation="create_checkout_session").error_code == (
        "urls_not_mounted"
    )


def test_simulated_checkout_shortcut_fails_with_the_fix(simulated):
    from patchbay.stripe.shortcuts import create_checkout_session

    assert_not_mounted(create_checkout_session("price_1"))


def test_webhook_loopback_raises_nothing_unexpected(simulated):
    from patchbay.exceptions import ServiceError
    from patchbay.webhooks.loopback import deliver_webhook

    with pytest.raises(ServiceError) as info:
        deliver_webhook("patchbay:stripe-webhook", b"{}")
    assert info.value.error_code == "urls_not_mounted"
    assert MOUNT in info.value.message


# -- S3 -------------------------------------------------------------------------------------


def test_simulated_presigned_post_fails_with_the_fix(simulated):
    assert_not_mounted(S3Client().generate_presigned_post("a.txt"))


def test_simulated_presigned_url_fails_with_the_fix(simulated):
    assert_not_mounted(S3Client().generate_presigned_url("a.txt"))


def test_simulated_private_upload_fails_before_storing(simulated):
    client = S3Client()

    assert_not_mounted(client.upload_fileobj(io.BytesIO(b"hi"), "a.txt", public=False))
    assert client.get_object_metadata("a.txt")["error_code"] == "not_found"


# -- Loops ----------------------------------------------------------------------------------


def test_magic_link_fails_with_the_fix(simulated, django_user_model):
    from patchbay.loops.login import send_login_link

    simulated.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")

    assert_not_mounted(send_login_link(user))
    assert not LoginToken.objects.exists()


def test_magic_link_email_logs_the_fix(simulated, django_user_model, caplog):
    from patchbay.loops.shortcuts import send_login_code_email

    simulated.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")

    assert send_login_code_email(user) is None
    assert "urls_not_mounted" in caplog.text


# -- Twilio ---------------------------------------------------------------------------------


def test_simulated_sms_fails_instead_of_staying_queued(simulated):
    result = twilio_shortcuts.send_sms("+14155552671", "hi")

    assert_not_mounted(result)
    sms = SMS.objects.get(pk=result["sms_id"])
    assert (sms.status, sms.error_code) == ("failed", "urls_not_mounted")


def test_simulated_sms_without_tracking_needs_no_url(simulated):
    assert twilio_shortcuts.send_sms("+14155552671", "hi", save_to_db=False)["success"] is True


@responses.activate
def test_live_sms_with_a_public_url_fails_instead_of_losing_callbacks(unmounted):
    unmounted.PATCHBAY_SIMULATE = False
    unmounted.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    unmounted.TWILIO_ACCOUNT_SID = "AC" + "a" * 32
    unmounted.TWILIO_AUTH_TOKEN = "token"
    unmounted.TWILIO_PHONE_NUMBER = "+14155550100"

    assert_not_mounted(TwilioClient().send_sms("+14155552671", "hi"))
    assert len(responses.calls) == 0  # refused before anything was sent


def test_e020_finds_patchbay_urls_inside_an_include(settings):
    settings.ROOT_URLCONF = "tests.urls_nested_patchbay"
    assert checks.check_urls_mounted() == []


def test_e020_is_reported_for_urls_only_reachable_in_another_namespace(settings):
    # reverse("patchbay:…") cannot find them there, so everything fails as if unmounted.
    settings.ROOT_URLCONF = "tests.urls_namespaced_patchbay"
    assert [m.id for m in checks.check_urls_mounted()] == ["patchbay.E020"]
    assert_not_mounted(StripeClient(debug_mode=True).create_checkout_session("p", "/a", "/b"))
