"""Every shortcut of every service, simulated, as a project would call them.

Run in a fresh interpreter (see tests/test_no_extras.py and tests/test_zero_config.py)
after ``django.setup()`` and ``migrate``: :func:`run` returns one outcome per step,
``{"success": ..., "error_code": ..., "error": ...}``. It needs nothing but Django
and patchbay: no provider SDK, no pytest, no test settings.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

PHONE = "+14155552671"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def outcome(result: Any) -> dict[str, Any]:
    """A step's result reduced to what the tests assert on."""
    if isinstance(result, dict) and "success" in result:
        return {
            "success": bool(result["success"]),
            "error_code": result.get("error_code", ""),
            "error": str(result.get("error", "")),
            "simulated": bool(result.get("simulated", False)),
        }
    return {"success": bool(result), "error_code": "", "error": repr(result), "simulated": None}


def run() -> dict[str, dict[str, Any]]:
    """Call every shortcut, simulated; the outcome of each, by name."""
    from patchbay.core.simulation import outbox

    outcomes: dict[str, dict[str, Any]] = {}

    def step(name: str, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except Exception as exc:  # a shortcut must never raise: record it as a failure
            outcomes[name] = {
                "success": False,
                "error_code": "raised",
                "error": f"{type(exc).__name__}: {exc}",
                "simulated": None,
            }
            return None
        outcomes[name] = outcome(result)
        return result

    # The host every default ALLOWED_HOSTS accepts with DEBUG on.
    browser = Client(SERVER_NAME="localhost")
    user = get_user_model().objects.create_user(
        "ada", "ada@example.com", "pw", first_name="Ada", last_name="Lovelace"
    )
    _stripe(step, browser, user)
    _twilio(step, outbox)
    _loops(step, outbox, user)
    _aws(step, browser, user)
    return outcomes


def _stripe(step: Callable[..., Any], browser: Client, user: Any) -> None:
    from patchbay.stripe import shortcuts
    from patchbay.stripe.client import StripeClient
    from patchbay.stripe.simulation import WEBHOOK_SECRET, event, sign

    checkout = step(
        "stripe.create_checkout_session",
        lambda: shortcuts.create_checkout_session("price_simulated", user=user),
    )
    subscription = step(
        "stripe.create_subscription_checkout",
        lambda: shortcuts.create_subscription_checkout("price_simulated_monthly", user=user),
    )
    for name, session in (("payment", checkout), ("subscription", subscription)):
        url = (session or {}).get("session", {}).get("url", "")
        step(
            f"stripe.simulated_checkout_pay.{name}",
            lambda url=url: _answer(browser.post(url, {"action": "pay"}), expected=302),
        )
    active = step("stripe.get_active_subscription", lambda: shortcuts.get_active_subscription(user))
    customer = step(
        "stripe.create_customer_from_user", lambda: shortcuts.create_customer_from_user(user)
    )
    customer_id = ((customer or {}).get("customer") or {}).get("id", "cus_missing")
    step(
        "stripe.create_billing_portal_session",
        lambda: StripeClient().create_billing_portal_session(customer_id, "http://localhost/"),
    )
    subscription_id = active.subscription_id if active is not None else "sub_missing"
    step(
        "stripe.cancel_user_subscription",
        lambda: shortcuts.cancel_user_subscription(subscription_id),
    )
    body = json.dumps(event("invoice.paid", {"id": "in_simulated", "object": "invoice"}))
    step(
        "stripe.handle_webhook_event",
        lambda: shortcuts.handle_webhook_event(body, sign(body, WEBHOOK_SECRET)),
    )


def _twilio(step: Callable[..., Any], outbox: Any) -> None:
    from patchbay.models import SMS
    from patchbay.twilio import shortcuts
    from patchbay.twilio.verification import initiate_phone_verification, verify_phone_code

    sent = step("twilio.send_sms", lambda: shortcuts.send_sms(PHONE, "Your table is ready"))
    sms_id = (sent or {}).get("sms_id")
    step(
        "twilio.send_sms.delivered",
        lambda: SMS.objects.filter(pk=sms_id, status="delivered").exists(),
    )
    step("twilio.get_sms_status", lambda: shortcuts.get_sms_status(sms_id or 0))
    step("twilio.verify_phone_number", lambda: shortcuts.verify_phone_number(PHONE))
    step("twilio.send_verification_code", lambda: shortcuts.send_verification_code(PHONE, "424242"))
    outbox.clear()
    step("twilio.initiate_phone_verification", lambda: initiate_phone_verification(PHONE))
    texts = outbox.filter(provider="twilio", operation="send_sms")
    code = "".join(ch for ch in (texts[-1].data["body"] if texts else "") if ch.isdigit())
    step("twilio.verify_phone_code", lambda: verify_phone_code(PHONE, code))


def _loops(step: Callable[..., Any], outbox: Any, user: Any) -> None:
    from types import SimpleNamespace

    from patchbay.loops import shortcuts
    from patchbay.models import EmailEvent

    def sent(template_key: str, send: Callable[[], Any]) -> bool:
        outbox.clear()
        send()
        emails = outbox.filter(provider="loops", operation="transactional_email")
        return any(template_key in email.data["payload"]["transactionalId"] for email in emails)

    step(
        "loops.send_password_reset_email",
        lambda: sent(
            "password_reset",
            lambda: shortcuts.send_password_reset_email(user, "http://localhost/reset/"),
        ),
    )
    step(
        "loops.send_login_code_email",
        lambda: sent("login_code", lambda: shortcuts.send_login_code_email(user, "/")),
    )
    membership = SimpleNamespace(user=user, team="Research", role="admin")
    step(
        "loops.send_team_membership_email",
        lambda: shortcuts.send_team_membership_email(membership),
    )
    step(
        "loops.send_template",
        lambda: shortcuts.send_template("welcome", "ada@example.com", {"name": "Ada"}),
    )
    step("loops.delivery_events", lambda: EmailEvent.objects.filter(kind="delivered").exists())


def _aws(step: Callable[..., Any], browser: Client, user: Any) -> None:
    from patchbay.aws import shortcuts

    form = step(
        "aws.get_direct_upload_form_data",
        lambda: shortcuts.get_direct_upload_form_data("photo.png", "image/png", owner=user),
    )
    form = form or {}

    def post_form() -> dict[str, Any]:
        data: dict[str, Any] = dict(form.get("form_fields") or {})
        data["file"] = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
        return _answer(browser.post(form.get("form_url") or "/missing/", data), expected=201)

    step("aws.simulated_upload", post_form)
    upload_id = form.get("upload_id") or 0
    step("aws.complete_upload", lambda: shortcuts.complete_upload(upload_id))
    url = step("aws.get_upload_file_url", lambda: shortcuts.get_upload_file_url(upload_id))
    step(
        "aws.simulated_object",
        lambda: _answer(browser.get((url or {}).get("url") or "/missing/"), expected=200),
    )
    step("aws.delete_upload", lambda: shortcuts.delete_upload(upload_id))


def _answer(response: Any, *, expected: int) -> dict[str, Any]:
    if response.status_code == expected:
        return {"success": True}
    return {
        "success": False,
        "error_code": f"http_{response.status_code}",
        "error": response.content.decode(errors="replace")[:2000],
    }


# -- for the tests that run the tour in a subprocess ---------------------------------------


def tour_outcomes(result: Any) -> dict[str, dict[str, Any]]:
    """The outcomes a subprocess printed as ``OUTCOMES <json>``."""
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("OUTCOMES ")]
    found: dict[str, dict[str, Any]] = json.loads(line.removeprefix("OUTCOMES "))
    return found


def assert_every_step_succeeded(outcomes: dict[str, dict[str, Any]]) -> None:
    # sdk_missing would be allowed where simulating truly needs an SDK; none does today.
    failed = {name: found for name, found in outcomes.items() if not found["success"]}
    assert not failed, json.dumps(failed, indent=1)
    assert len(outcomes) >= 27


if __name__ == "__main__":  # pragma: no cover - run by the tests in a subprocess
    print("OUTCOMES", json.dumps(run()), file=sys.stdout)
