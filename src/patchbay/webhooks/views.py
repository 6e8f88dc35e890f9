"""The base view every provider's webhook endpoint is built from."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, ClassVar

from django.contrib.auth.decorators import login_not_required
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from patchbay import metrics
from patchbay.conf import conf
from patchbay.core.recording import record_call, record_refusal, records_in_background
from patchbay.exceptions import WebhookVerificationError
from patchbay.models import ExternalService, IntegrationLog, WebhookEvent
from patchbay.tenancy import use_tenant
from patchbay.webhooks.processing import DUPLICATE, process_delivery
from patchbay.webhooks.values import storable
from patchbay.webhooks.verification import VerifiedDelivery, WebhookVerifier

logger = logging.getLogger("patchbay.webhooks")


class BodyTooLarge(Exception):
    pass


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge
    try:
        body = request.read(limit + 1)
    except RawPostDataException:  # something already read the stream
        body = request.body
    if len(body) > limit:
        raise BodyTooLarge
    return body


# Providers post without a session or a CSRF token: exempt from both (the marker is what
# LoginRequiredMiddleware reads, copied by as_view() to every subclass's view).
@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    """POST-only, CSRF-exempt endpoint: cap, verify, store once, dispatch, answer.

    Open without a login, under ``LoginRequiredMiddleware`` too, as are its
    subclasses (unless they override ``dispatch`` undecorated).

    Subclasses set ``provider`` and implement :meth:`get_verifier`. Every
    accepted delivery is recorded as an IntegrationLog row; refused ones are
    counted, and one row per window and reason stands for them (see
    :func:`~patchbay.core.recording.record_refusal`).

    Routed with an ``endpoint`` URL argument (a UUID), the view is a tenant's:
    the endpoint names the ExternalService row of that tenant and provider
    (none: a 404), and :attr:`tenant_key` is its tenant's, for the verifier,
    the stored event, its handlers and the log rows (see :doc:`/tenants`).
    """

    #: The provider name events are stored and dispatched under.
    provider: ClassVar[str] = ""
    #: The tenant this delivery is for, from the ``endpoint`` URL argument ("": the site's).
    tenant_key: str = ""
    http_method_names = ["post", "options"]

    def get_verifier(self) -> WebhookVerifier:
        """The provider's verifier, with the secrets configured now.

        Asked for on every delivery, so a secret changed in the admin applies to
        the next one: one kept across deliveries must go when its configuration
        does, as :meth:`StripeClient.webhook_verifier
        <patchbay.stripe.client.StripeClient.webhook_verifier>`'s does.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement get_verifier().")

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        """The delivery's event, from :meth:`get_verifier`'s ``verify``."""
        return self.get_verifier().verify(request, body)

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = JsonResponse({"error": "Only POST is accepted."}, status=405)
        response["Allow"] = "POST"
        return response

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        started = time.perf_counter()
        endpoint = kwargs.get("endpoint")
        if endpoint is not None:
            tenant_key = self.endpoint_tenant(endpoint)
            if tenant_key is None:
                return self._refuse(started, 404, "Unknown webhook endpoint.", "unknown_endpoint")
            self.tenant_key = tenant_key
            with use_tenant(tenant_key):
                return self.receive(request, started)
        return self.receive(request, started)

    def endpoint_tenant(self, endpoint: uuid.UUID | str) -> str | None:
        """The tenant key of the ExternalService row ``endpoint`` names; None when none."""
        return (
            ExternalService.objects.filter(webhook_endpoint=endpoint, provider=self.provider)
            .values_list("tenant_key", flat=True)
            .first()
        )

    def receive(self, request: HttpRequest, started: float) -> HttpResponse:
        """Cap, verify, store once and dispatch the delivery, for :attr:`tenant_key`."""
        try:
            body = read_body(request, conf.WEBHOOK_MAX_BODY_SIZE)
        except BodyTooLarge:
            return self._refuse(started, 413, "Request body is too large.", "body_too_large")
        try:
            # Checked for what the database can store whoever verified it: a value a
            # column refuses is a 400 naming it, never a DataError answered 500.
            delivery = storable(self.verify(request, body))
        except WebhookVerificationError as refused:
            code = "invalid_payload" if refused.error_code == "invalid_payload" else ""
            return self._refuse(
                started, refused.status, refused.reason, code or "verification_failed"
            )
        except Exception:
            # Whatever a hostile body does to a parser, the answer is a 400, never a 500.
            logger.exception("Unexpected error verifying a %s webhook", self.provider)
            return self._refuse(
                started, 400, "The webhook could not be verified.", "verification_failed"
            )

        def record(event: WebhookEvent, outcome: str) -> None:
            metrics.count_delivery(self.provider, outcome)
            failed = outcome == WebhookEvent.Status.FAILED
            malformed = outcome == WebhookEvent.Status.MALFORMED
            self._record(
                started,
                success=not (failed or malformed),
                status_code=500 if failed else 200,
                summary={
                    "event_id": delivery.event_id,
                    "event_type": delivery.event_type,
                    "outcome": outcome,
                },
                error=event.error if failed or malformed else "",
                error_code=("handler_failed" if failed else "malformed_event" if malformed else ""),
            )

        try:
            store = process_delivery
            if conf.WEBHOOK_PROCESSING == "background":
                # Imported here: only background mode needs the tasks machinery.
                from patchbay.webhooks.background import store_delivery as store
            if records_in_background():
                # The background writer stores the log row: the event's transaction
                # commits without it, and the row follows within milliseconds.
                event, outcome = store(self.provider, delivery, tenant_key=self.tenant_key)
                record(event, outcome)
            else:
                # The log row is written in the event's transaction (in a savepoint of
                # its own): one commit for both.
                event, outcome = store(
                    self.provider, delivery, then=record, tenant_key=self.tenant_key
                )
        except DataError:
            # A value storable() let through and a column still refused: the input's
            # fault, which a redelivery would not change. Rolled back with the event.
            logger.exception("A %s webhook holds a value the database refused", self.provider)
            return self._refuse(
                started,
                400,
                "The event holds a value the database cannot store.",
                "invalid_payload",
            )
        return self.respond(event, outcome)

    def respond(self, event: WebhookEvent, outcome: str) -> HttpResponse:
        """The answer to the provider: 500 on handler failure, so it redelivers.

        A malformed event is answered 200 with its ``error``: no redelivery
        would make it processable.
        """
        if outcome == WebhookEvent.Status.FAILED:
            return JsonResponse(
                {"error": "The event handler failed.", "status": outcome}, status=500
            )
        answer: dict[str, Any] = {"status": outcome, "duplicate": outcome == DUPLICATE}
        if outcome == WebhookEvent.Status.MALFORMED:
            answer["error"] = event.error
        return JsonResponse(answer)

    def _refuse(self, started: float, status: int, error: str, error_code: str) -> HttpResponse:
        # Anyone can post these, as often as they like: counted, and stored and logged
        # once per window and reason (see record_refusal).
        metrics.count_delivery(self.provider, "refused")
        record_refusal(
            provider=self.provider,
            operation="webhook",
            error=error,
            error_code=error_code,
            status_code=status,
            duration_ms=round((time.perf_counter() - started) * 1000),
            tenant_key=self.tenant_key,
        )
        response = JsonResponse({"error": error}, status=status)
        # Django would log every 4xx on django.request ("Bad Request: ..."), and the logs
        # would grow with forged traffic after all: record_refusal logged it (or counted
        # it) already. The marker is the one Django's log_response() sets and reads.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response

    def _record(
        self,
        started: float,
        *,
        success: bool,
        status_code: int,
        summary: dict[str, Any] | None = None,
        error: str = "",
        error_code: str = "",
    ) -> None:
        record_call(
            provider=self.provider,
            operation="webhook",
            success=success,
            duration_ms=round((time.perf_counter() - started) * 1000),
            error=error,
            error_code=error_code,
            status_code=status_code,
            summary=summary,
            direction=IntegrationLog.Direction.INBOUND,
            tenant_key=self.tenant_key,
        )
