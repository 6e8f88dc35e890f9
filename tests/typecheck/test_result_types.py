"""What a type checker knows of the results of the main shortcuts of each service.

``mypy`` checks this module (``.ci/run``: ``mypy src tests/typecheck``): every
``assert_type`` must hold statically, and reading a key a result does not
have is an error. ``assert_type`` does nothing at run time, so pytest also
runs each function, simulated, and checks the values.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.contrib.auth.models import User

from patchbay.aws.results import DirectUploadResult, ObjectListResult, ObjectSummary
from patchbay.aws.s3 import S3Client
from patchbay.aws.shortcuts import get_direct_upload_form_data
from patchbay.error_codes import ErrorCode
from patchbay.loops.login import send_login_link
from patchbay.loops.results import EmailResult, LoginLinkResult, QueuedEmailResult
from patchbay.loops.shortcuts import (
    send_password_reset_email,
    send_team_membership_email,
    send_template,
)
from patchbay.results import Failure, HealthCheckResult
from patchbay.stripe.client import StripeClient
from patchbay.stripe.results import CheckoutSessionResult, CustomerFromUserResult
from patchbay.stripe.shortcuts import create_checkout_session, create_customer_from_user
from patchbay.twilio.results import (
    LookupResult,
    PhoneVerificationResult,
    QueuedSMSResult,
    TrackedSMSResult,
)
from patchbay.twilio.shortcuts import send_sms, verify_phone_number
from patchbay.twilio.verification import initiate_phone_verification

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pragma: no cover
    from typing_extensions import assert_type

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("patchbay_simulate")]


@pytest.fixture
def user() -> User:
    return User.objects.create_user("ada", "ada@example.com", first_name="Ada")


def test_stripe_checkout_session() -> None:
    result = create_checkout_session("price_123", "https://x/ok", "https://x/cancel")
    assert_type(result, CheckoutSessionResult)
    if result["success"]:
        url = result["session"]["url"]
        assert_type(url, Any)  # Stripe's objects are its JSON: dict[str, Any]
        assert "simulated-checkout" in str(url)
        assert_type(result.get("simulated"), bool | None)
    else:
        assert_type(result, Failure)
        pytest.fail(result["error"])


def test_stripe_customer_from_user(user: User) -> None:
    result = create_customer_from_user(user)
    assert_type(result, CustomerFromUserResult)
    assert result["success"], result
    assert_type(result["created"], bool)
    assert result["created"] is True
    assert str(result["customer"]["id"]).startswith("cus_")


def test_twilio_send_sms() -> None:
    result = send_sms("+14155552671", "Your table is ready", background=False)
    assert_type(result, TrackedSMSResult)
    assert result["success"], result
    assert_type(result["sid"], str)
    assert_type(result["from"], str | None)
    assert_type(result.get("sms_id"), int | None)
    assert result["to"] == "+14155552671"
    assert result.get("sms_id") is not None


def test_twilio_send_sms_in_the_background() -> None:
    result = send_sms("+14155552671", "Your table is ready", background=True)
    assert_type(result, QueuedSMSResult)
    assert result["success"], result
    assert_type(result["sms_id"], int)
    assert result["queued"] is True


def test_twilio_send_sms_with_the_default_may_be_either(settings: Any) -> None:
    # PATCHBAY_SEND_IN_BACKGROUND decides at run time: the type says both.
    settings.PATCHBAY_SEND_IN_BACKGROUND = True
    result = send_sms("+14155552671", "Your table is ready")
    assert_type(result, TrackedSMSResult | QueuedSMSResult)
    assert result["success"], result
    assert_type(result.get("sms_id"), int | None)
    assert dict(result)["queued"] is True  # queued, as the setting says


def test_twilio_failure_shape() -> None:
    result = send_sms("not a number", "hi", background=False)
    assert_type(result, TrackedSMSResult)
    assert not result["success"]
    assert_type(result["error_code"], str)
    assert_type(result["retryable"], bool)
    assert result["error_code"] == ErrorCode.INVALID_NUMBER


def test_twilio_lookup_and_verification() -> None:
    lookup = verify_phone_number("+14155552671")
    assert_type(lookup, LookupResult)
    assert lookup["success"], lookup
    assert_type(lookup["valid"], bool)
    assert lookup["valid"] is True
    started = initiate_phone_verification("+14155552671")
    assert_type(started, PhoneVerificationResult)
    if started["success"]:
        assert_type(started["expires_in"], int)
        assert started["phone_number"] == "+14155552671"
    else:
        assert_type(started.get("retry_after"), int | None)
        pytest.fail(started["error"])


def test_loops_emails(user: User) -> None:
    sent = send_template(
        "password_reset", "ada@example.com", {"resetUrl": "https://x/r"}, background=False
    )
    assert_type(sent, EmailResult)
    assert sent["success"], sent
    assert_type(sent["idempotency_key"], str)
    assert_type(sent["duplicate"], bool)
    # The spec fixes these two: None (failures are logged) and whether it was sent.
    assert_type(send_password_reset_email(user, "https://x/r"), None)

    class Membership:
        team, role = "Analytical Engines", "admin"

    Membership.user = user  # type: ignore[attr-defined]
    assert_type(send_team_membership_email(Membership()), bool)
    link = send_login_link(user)
    assert_type(link, LoginLinkResult)
    assert link["success"], link
    assert_type(link["login_token_id"], int)


def test_loops_email_in_the_background() -> None:
    queued = send_template("password_reset", "ada@example.com", {}, background=True)
    assert_type(queued, QueuedEmailResult)
    assert queued["success"], queued
    assert_type(queued["email_id"], int)
    assert_type(queued["idempotency_key"], str)
    assert queued["queued"] is True


def test_loops_email_with_the_default_may_be_either(settings: Any) -> None:
    settings.PATCHBAY_SEND_IN_BACKGROUND = True
    result = send_template("password_reset", "ada@example.com", {})
    assert_type(result, EmailResult | QueuedEmailResult)
    assert result["success"], result
    assert_type(result["idempotency_key"], str)  # in both shapes
    assert "email_id" in result


def test_loops_login_link_in_the_background(user: User) -> None:
    link = send_login_link(user, background=True)
    assert_type(link, LoginLinkResult)
    assert link["success"], link
    assert_type(link.get("email_id"), int | None)
    assert link.get("queued") is True


def test_s3_uploads_and_listing() -> None:
    form = get_direct_upload_form_data("photo.jpg", "image/jpeg")
    assert_type(form, DirectUploadResult)
    assert form["success"], form
    assert_type(form["form_url"], str)
    assert_type(form["upload_id"], int)
    listing = S3Client().list_objects()
    assert_type(listing, ObjectListResult)
    assert listing["success"], listing
    assert_type(listing["objects"], list[ObjectSummary])
    assert listing["count"] == len(listing["objects"])


def test_health_check() -> None:
    health = StripeClient().check_health()
    assert_type(health, HealthCheckResult)
    assert health["success"]
    assert_type(health["healthy"], bool)
