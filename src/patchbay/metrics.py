"""Prometheus metrics: calls, webhook deliveries, breakers, health and queues.

Counted as they happen, while :setting:`PATCHBAY_METRICS` is on and
``prometheus-client`` is installed (``pip install django-patchbay[prometheus]``):
calls by provider, operation and outcome with their latency, and webhook
deliveries by provider and status, on prometheus-client's default registry, so
an exporter the project already runs serves them too. Read when scraped:
breaker state, health, and what waits in the queues (:class:`StateCollector`).
:func:`exposition` answers a scrape, in prometheus-client's multiprocess mode
when ``PROMETHEUS_MULTIPROC_DIR`` is set (see :ref:`metrics`).

Every label value comes from a closed set (providers and operations are
code's names, outcomes the :data:`~patchbay.error_codes.ERROR_CODES`), never
from what a caller or a provider sent: no phone number, address or URL.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from functools import cache
from importlib.util import find_spec
from typing import Any, NamedTuple

from patchbay.conf import conf
from patchbay.error_codes import ERROR_CODES

logger = logging.getLogger("patchbay")

#: The outcome of a failed call whose code is a provider's own (``card_declined``,
#: ``twilio_21211``): a label per provider code would have no bound.
PROVIDER_ERROR = "provider_error"
#: The environment variable turning on prometheus-client's multiprocess mode.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: Latency buckets (seconds), from a cached answer to a provider's own timeout.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@cache
def installed() -> bool:
    """Whether prometheus-client can be imported."""
    return find_spec("prometheus_client") is not None


def enabled() -> bool:
    """Whether calls and deliveries are counted: the setting on and the library there."""
    return bool(conf.METRICS) and installed()


class _Instruments(NamedTuple):
    calls: Any
    latency: Any
    deliveries: Any


_instruments: _Instruments | None = None
_lock = threading.Lock()


def _made() -> _Instruments:
    # Made on first use: importing prometheus_client is left to processes that count.
    global _instruments
    if _instruments is None:
        with _lock:
            if _instruments is None:
                from prometheus_client import Counter, Histogram

                _instruments = _Instruments(
                    calls=Counter(
                        "patchbay_calls",
                        "Calls to providers, by provider, operation, outcome and mode.",
                        ["provider", "operation", "outcome", "mode"],
                    ),
                    latency=Histogram(
                        "patchbay_call_duration_seconds",
                        "How long calls to providers took, by provider and operation.",
                        ["provider", "operation"],
                        buckets=LATENCY_BUCKETS,
                    ),
                    deliveries=Counter(
                        "patchbay_webhook_deliveries",
                        "Webhook deliveries received, by provider and status.",
                        ["provider", "status"],
                    ),
                )
    return _instruments


def outcome_label(success: bool, error_code: str) -> str:
    """``success``, a code of patchbay's own, or :data:`PROVIDER_ERROR`."""
    if success:
        return "success"
    return error_code if error_code in ERROR_CODES else PROVIDER_ERROR


def count_call(
    provider: str,
    operation: str,
    *,
    success: bool,
    error_code: str,
    seconds: float,
    simulated: bool,
) -> None:
    """Count one call and its latency (nothing while metrics are off). Never raises."""
    if not enabled():
        return
    try:
        instruments = _made()
        operation = operation[:100]
        mode = "simulated" if simulated else "live"
        outcome = outcome_label(success, error_code)
        instruments.calls.labels(provider, operation, outcome, mode).inc()
        instruments.latency.labels(provider, operation).observe(max(0.0, seconds))
    except Exception:  # a multiprocess directory gone, say: the call itself went fine
        logger.warning("Could not count a %s call for Prometheus", provider, exc_info=True)


def count_delivery(provider: str, status: str) -> None:
    """Count one webhook delivery: its event's status, ``duplicate`` or ``refused``."""
    if not enabled():
        return
    try:
        _made().deliveries.labels(provider, status).inc()
    except Exception:  # as in count_call: never at the delivery's expense
        logger.warning("Could not count a %s delivery for Prometheus", provider, exc_info=True)


class StateCollector:
    """Gauges read when scraped: breaker state, health, webhook backlog, pending sends.

    A few queries per scrape, whatever the traffic; in multiprocess mode the
    scraping process reads them once for all workers.
    """

    def collect(self) -> Iterator[Any]:
        """The gauges, read now."""
        from prometheus_client.core import GaugeMetricFamily

        from patchbay.core import registry
        from patchbay.core.breaker import CLOSED, HALF_OPEN, OPEN, UNKNOWN, CircuitBreaker
        from patchbay.models import ExternalService

        breakers = GaugeMetricFamily(
            "patchbay_breaker_state",
            "1 for each service's current circuit breaker state.",
            labels=["provider", "state"],
        )
        health = GaugeMetricFamily(
            "patchbay_service_health",
            "1 for each service's current health status.",
            labels=["provider", "state"],
        )
        stored = dict(
            # The site's services: the gauges have no tenant label.
            ExternalService.objects.filter(tenant_key="")
            .values_list("provider", "health_status")
            .order_by("provider")
        )
        for service in registry.declarations():
            provider = service.provider
            current = CircuitBreaker(provider).state
            for state in (CLOSED, OPEN, HALF_OPEN, UNKNOWN):
                breakers.add_metric([provider, state], float(state == current))
            status = stored.get(provider, ExternalService.HealthStatus.UNKNOWN)
            for state in ExternalService.HealthStatus.values:
                health.add_metric([provider, state], float(state == status))
        yield breakers
        yield health
        yield from _queues(GaugeMetricFamily)

    def describe(self) -> list[Any]:
        # Nothing to describe up front: registering must not query the database.
        return []


def _queues(family: Any) -> Iterator[Any]:
    from django.utils import timezone

    from patchbay.core.sends import PENDING
    from patchbay.models import SMS, OutboundEmail
    from patchbay.status import webhook_queue

    waiting = family(
        "patchbay_webhook_events_waiting",
        "Webhook events waiting for a run (queued: never run; retrying: failed), and dead.",
        labels=["provider", "status"],
    )
    oldest = family(
        "patchbay_webhook_oldest_waiting_seconds",
        "Age of the oldest webhook event waiting for a run.",
        labels=["provider"],
    )
    now = timezone.now()
    for row in webhook_queue():
        for status in ("queued", "retrying", "dead"):
            waiting.add_metric([row["provider"], status], row[status])
        if row["oldest_unprocessed"] is not None:
            age = (now - row["oldest_unprocessed"]).total_seconds()
            oldest.add_metric([row["provider"]], max(0.0, age))
    pending = family(
        "patchbay_sends_pending",
        "Outbound messages waiting to be sent, by channel.",
        labels=["channel"],
    )
    sms = SMS.objects.filter(status=PENDING, direction=SMS.DIRECTION_OUTBOUND)
    pending.add_metric(["sms"], sms.count())
    pending.add_metric(["email"], OutboundEmail.objects.filter(status=PENDING).count())
    yield waiting
    yield oldest
    yield pending


def exposition(accept: str) -> tuple[bytes, str]:
    """A scrape's body and content type (OpenMetrics when ``accept`` asks for it).

    The default registry, or in multiprocess mode what every process wrote to
    ``PROMETHEUS_MULTIPROC_DIR``, and :class:`StateCollector`'s gauges.
    """
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.exposition import choose_encoder

    scraped = CollectorRegistry(auto_describe=False)
    path = os.environ.get(MULTIPROC_DIR)
    if path:
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(scraped, path=path)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        scraped.register(_Everything(REGISTRY))
    scraped.register(StateCollector())
    encoder, content_type = choose_encoder(accept)
    return encoder(scraped), content_type


class _Everything:
    """Another registry's metrics, as one collector of the scrape's registry."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()

    def describe(self) -> list[Any]:
        return []
