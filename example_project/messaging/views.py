"""Twilio demos: send an SMS and watch it get delivered; verify a phone number by SMS code.

Offline (simulation on) nothing is sent: messages are printed on the console,
listed in the dev outbox panel (with ``DEBUG`` on only: it shows verification
codes to anyone), and "delivered" by signed status callbacks posted to
patchbay's real endpoint.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from example.dev import dev_outboxes_shown
from patchbay.core.simulation import outbox
from patchbay.models import SMS
from patchbay.twilio.client import MAX_BODY_LENGTH, SendSMS, StartVerification
from patchbay.twilio.shortcuts import get_sms_status, send_sms
from patchbay.twilio.statuses import FINAL
from patchbay.twilio.verification_views import SESSION_KEY as VERIFIED_PHONE_SESSION_KEY

OUTBOX_SIZE = 10
#: The Twilio operations that send a text message, the ones the dev outbox lists.
SENDING = (SendSMS.operation, StartVerification.operation)
# send_sms's refusals of the number itself, made before anything is sent.
NUMBER_REFUSALS = frozenset({"invalid_number", "country_not_allowed", "opted_out"})
# The badge of each final status (base.html's colours); the page stops polling at these.
FINAL_STATUS_CLASSES = {
    status: "healthy" if status in ("delivered", "read", "received") else "down" for status in FINAL
}


class SendSMSForm(forms.Form):
    to_number = forms.CharField(
        label="Phone number", max_length=32, help_text="International format, e.g. +14155552671."
    )
    body = forms.CharField(
        label="Message", max_length=MAX_BODY_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


@login_required
def send(request: HttpRequest) -> HttpResponse:
    form = SendSMSForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = send_sms(
            form.cleaned_data["to_number"],
            form.cleaned_data["body"],
            user=request.user,
            request=request,
        )
        if result["success"]:
            return redirect("messaging:sms", sms_id=result["sms_id"])
        # A number refused before sending is the field's error, where it is corrected.
        field = "to_number" if result["error_code"] in NUMBER_REFUSALS else None
        form.add_error(field, result["error"])
    context = {
        "form": form,
        "recent": [
            (sms, FINAL_STATUS_CLASSES.get(sms.status, ""))
            for sms in SMS.objects.filter(user=request.user)[:5]
        ],
        **dev_outbox(),
    }
    return render(request, "messaging/send.html", context)


@login_required
def sms_detail(request: HttpRequest, sms_id: int) -> HttpResponse:
    sms = get_object_or_404(SMS, pk=sms_id, user=request.user)
    context = {
        "sms": sms,
        "status_class": FINAL_STATUS_CLASSES.get(sms.status, ""),
        "status_classes": FINAL_STATUS_CLASSES,
        **dev_outbox(),
    }
    return render(request, "messaging/sms.html", context)


@login_required
@require_GET
def sms_status(request: HttpRequest, sms_id: int) -> JsonResponse:
    """The message's status as JSON, for the page's poll; only its sender may see it."""
    get_object_or_404(SMS, pk=sms_id, user=request.user)
    return JsonResponse(get_sms_status(sms_id))


def verify_phone(request: HttpRequest) -> HttpResponse:
    context = {"verified_phone": request.session.get(VERIFIED_PHONE_SESSION_KEY), **dev_outbox()}
    return render(request, "messaging/verify.html", context)


@require_GET
def outbox_panel(request: HttpRequest) -> HttpResponse:
    """The outbox panel alone, for pages that refresh it after a fetch; ``DEBUG`` on only."""
    context = dev_outbox()
    if not context["show_outbox"]:
        raise Http404("The outbox only exists while simulating with DEBUG on.")
    return render(request, "messaging/_outbox.html", context)


def dev_outbox() -> dict[str, Any]:
    """The last simulated Twilio messages, newest first, for the dev-only outbox panel."""
    if not dev_outboxes_shown():
        return {"show_outbox": False, "outbox": []}
    # Messages only: a health probe (the admin's Test connection) or a status fetch sends none.
    calls = [call for call in outbox.filter(provider="twilio") if call.operation in SENDING][
        -OUTBOX_SIZE:
    ]
    return {
        "show_outbox": True,
        "outbox": [
            {
                "at": call.created_at,
                "operation": call.operation,
                "to": call.data.get("to") or call.data.get("phone_number", ""),
                # Twilio Verify calls carry a code, not a message body.
                "body": call.data.get("body") or call.data.get("code", ""),
            }
            for call in reversed(calls)
        ],
    }
