"""A view adding a lead to the signed-in user's Acme CRM, or asking them to connect it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from patchbay.error_codes import ErrorCode
from tests.extending.acme_crm.client import AcmeCrmClient

# The user has not connected Acme CRM, or Acme CRM stopped honouring the connection.
NEEDS_CONNECTING = {ErrorCode.NOT_CONNECTED, ErrorCode.REAUTHORIZATION_REQUIRED}


@login_required
@require_POST
def add_lead(request: HttpRequest) -> JsonResponse:
    email, name = request.POST.get("email", ""), request.POST.get("name", "")
    result = AcmeCrmClient(user=request.user).add_contact(email, name)
    if result["success"]:
        return JsonResponse({"contact_id": result["contact_id"]}, status=201)
    if result["error_code"] in NEEDS_CONNECTING:
        # The page offers a button that POSTs to this URL: patchbay's connect view.
        connect = reverse("patchbay:oauth2-connect", kwargs={"provider": AcmeCrmClient.provider})
        return JsonResponse({"error": result["error"], "connect_url": connect}, status=409)
    status = 503 if result.get("retryable") else 400
    return JsonResponse(
        {"error": result["error"], "error_code": result["error_code"]}, status=status
    )
