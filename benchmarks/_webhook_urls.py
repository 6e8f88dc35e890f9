"""URLs of figure 3's server: endpoints behind one middleware stack.

They differ only in what they do after verifying the signature:

- ``/integrations/webhooks/stripe/``: patchbay's endpoint (verify, store,
  dispatch, record, respond);
- ``/bare/``: a view that only verifies the signature with the Stripe SDK;
- ``/floor/``: the bare view plus one INSERT (autocommit) of the parsed event:
  the least any store-before-answering endpoint does, to tell what patchbay
  adds from what durably storing an event costs on this machine;
- ``/floor/transaction/``: the same INSERT between BEGIN and COMMIT, the issue's
  transactional floor: what any endpoint that writes more than one row (an
  event and its job) in one transaction pays at least.
"""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from patchbay.models import WebhookEvent
from patchbay.webhooks import receiver


def _verified(request: HttpRequest) -> bool:
    import stripe

    try:
        stripe.WebhookSignature.verify_header(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
            300,
        )
    except (stripe.SignatureVerificationError, ValueError):
        return False
    return True


@csrf_exempt
def bare_view(request: HttpRequest) -> HttpResponse:
    """The baseline: the SDK's signature check and a 200, nothing else."""
    if not _verified(request):
        return HttpResponse(status=400)
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


@csrf_exempt
def floor_view(request: HttpRequest) -> HttpResponse:
    """The bare view plus one durable INSERT of the event."""
    if not _verified(request):
        return HttpResponse(status=400)
    event = json.loads(request.body)
    WebhookEvent.objects.create(
        provider="floor", event_id=event["id"], event_type=event["type"], payload=event
    )
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


@csrf_exempt
def transaction_floor_view(request: HttpRequest) -> HttpResponse:
    """The floor's INSERT in a transaction of its own: BEGIN, INSERT, COMMIT."""
    with transaction.atomic():
        return floor_view(request)


def ready_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok")


# Where the handler counts its runs of the events it is asked to count: a file every
# worker appends one line to (O_APPEND: each short write lands whole), read afterwards.
HANDLER_RUNS = os.environ.get("BENCH_HANDLER_RUNS", "")
COUNTED_MARK = "_counted_"


@receiver("stripe", "customer.created", "balance.available")
def on_event(event: WebhookEvent) -> None:
    # A registered no-op handler: deliveries are dispatched and marked processed like
    # a project's events, and the figure measures the pipeline, not handler code.
    # balance.available: the type the benchmarks post, as dj-stripe fetches nothing
    # from Stripe's API for it (it retrieves the customer of customer.created).
    # Only the events of the concurrent-duplicates test are counted, so that the
    # throughput streams pay nothing for the count.
    if HANDLER_RUNS and COUNTED_MARK in event.event_id:
        with open(HANDLER_RUNS, "a") as runs:
            runs.write(event.event_id + "\n")


urlpatterns = [
    path("bare/", bare_view),
    path("floor/", floor_view),
    path("floor/transaction/", transaction_floor_view),
    path("ready/", ready_view),
    path("integrations/", include("patchbay.urls")),
]
