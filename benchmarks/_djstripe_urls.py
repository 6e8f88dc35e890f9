"""URLs of the dj-stripe server: its webhook endpoint and the readiness probe.

Standalone (no patchbay import): served from the peers' virtual environment.
Also connects the server's webhook handler, which counts its runs as patchbay's
site's does (:mod:`benchmarks._webhook_urls`).
"""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from djstripe.signals import WEBHOOK_SIGNALS  # type: ignore[import-not-found]

HANDLER_RUNS = os.environ.get("BENCH_HANDLER_RUNS", "")
COUNTED_MARK = "_counted_"


def on_event(sender: Any, event: Any, **kwargs: Any) -> None:
    # dj-stripe's way to handle an event type (its signals): a no-op, as patchbay's
    # site's handler is, that counts its runs of the concurrent-duplicates event in the
    # file every worker appends a line to.
    if HANDLER_RUNS and COUNTED_MARK in event.id:
        with open(HANDLER_RUNS, "a") as runs:
            runs.write(event.id + "\n")


WEBHOOK_SIGNALS["balance.available"].connect(on_event, weak=False)


def ready_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok")


urlpatterns = [
    path("ready/", ready_view),
    path("djstripe/", include("djstripe.urls", namespace="djstripe")),
]
