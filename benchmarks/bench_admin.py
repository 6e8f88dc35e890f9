"""Figure 6: the admin changelists of IntegrationLog, WebhookEvent and SMS at scale.

The tables grow to 10, 1,000 and 100,000 rows (10 / 100 / 1,000 with
``--quick``) with bulk inserts of varied, realistic rows spread over about
14 months; at each size a superuser's changelist page is rendered with
Django's test client (whole request: middleware, session, template). Targets:
the same number of queries at every size (nothing per row, nothing growing
with the table), and the page time at the largest size, reported against the
middle size's page in the same run (both show a full page of 100 rows).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from benchmarks.common import (
    Figure,
    call_in_subprocess,
    django_environment,
    figures_from,
    postgres_available,
)

SIZES = (10, 1_000, 100_000)
QUICK_SIZES = (10, 100, 1_000)
BATCH = 2_000
SPREAD = timedelta(days=420)  # rows span two calendar years, as a real log does
MODELS = ("IntegrationLog", "WebhookEvent", "SMS")


def run(quick: bool) -> list[Figure]:
    # PostgreSQL when it is there (as in production and CI), else SQLite in a file.
    database = "postgres" if postgres_available() else "sqlite"
    data = call_in_subprocess(__name__, "measure", {"database": database, "quick": quick})
    return figures_from(data)


# -- rows ---------------------------------------------------------------------------------------

_PROVIDERS = {
    "stripe": ["create_customer", "create_checkout_session", "create_refund", "webhook"],
    "twilio": ["send_sms", "send_whatsapp", "lookup", "webhook"],
    "loops": ["transactional_email", "update_contact", "send_event", "webhook"],
    "aws": ["generate_presigned_post", "upload_file", "delete_object"],
}
_ERROR_CODES = [
    "timeout",
    "connection_error",
    "rate_limited",
    "card_error",
    "invalid_request",
    "authentication_error",
    "circuit_open",
    "not_configured",
    "verification_failed",
    "handler_failed",
    "twilio_21211",
    "twilio_21610",
]
_EVENT_TYPES = {
    "stripe": [
        "checkout.session.completed",
        "customer.created",
        "customer.updated",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
        "payment_intent.succeeded",
        "charge.refunded",
    ],
    "twilio": ["message.status", "message.received"],
    "loops": ["email.delivered", "email.opened", "email.clicked", "email.hardBounced"],
}
_SMS_STATUSES = ["delivered"] * 12 + ["sent", "failed", "undelivered", "queued", "read"]


def _when(rng: random.Random, now: datetime) -> datetime:
    return now - SPREAD * rng.random()


def _log(rng: random.Random, now: datetime, index: int) -> Any:
    from patchbay.models import IntegrationLog

    provider = rng.choice(list(_PROVIDERS))
    operation = rng.choice(_PROVIDERS[provider])
    success = rng.random() < 0.93
    inbound = operation == "webhook"
    return IntegrationLog(
        provider=provider,
        operation=operation,
        direction="inbound" if inbound else "outbound",
        success=success,
        simulated=rng.random() < 0.1,
        duration_ms=rng.randint(3, 900),
        status_code=200 if success else rng.choice([400, 402, 429, 500, 503]),
        error_code="" if success else rng.choice(_ERROR_CODES),
        error="" if success else "The provider answered with an error.",
        request_summary={"event_id": f"evt_{index}"} if inbound else {"to": "+3361****78"},
        created_at=_when(rng, now),
    )


def _event(rng: random.Random, now: datetime, index: int) -> Any:
    from patchbay.models import WebhookEvent

    provider = rng.choice(list(_EVENT_TYPES))
    event_type = rng.choice(_EVENT_TYPES[provider])
    received = _when(rng, now)
    status = rng.choices(["processed", "ignored", "failed"], weights=[80, 18, 2])[0]
    return WebhookEvent(
        provider=provider,
        event_id=f"evt_bench_{index:08d}",
        event_type=event_type,
        payload={
            "id": f"evt_bench_{index:08d}",
            "type": event_type,
            "created": int(received.timestamp()),
            "data": {"object": {"id": f"obj_{index}", "amount": rng.randint(100, 99_999)}},
        },
        verified=True,
        status=status,
        attempts=1,
        error="" if status != "failed" else "ValueError: the handler failed",
        received_at=received,
        processed_at=received + timedelta(milliseconds=rng.randint(5, 500)),
    )


def _sms(rng: random.Random, now: datetime, index: int, users: list[Any]) -> Any:
    from patchbay.models import SMS

    created = _when(rng, now)
    status = rng.choice(_SMS_STATUSES)
    return SMS(
        direction="inbound" if rng.random() < 0.15 else "outbound",
        channel="whatsapp" if rng.random() < 0.2 else "sms",
        to_number=f"+3361{rng.randint(0, 9_999_999):07d}",
        from_number="+15005550006",
        body="Your order has shipped.",
        status=status,
        external_id=f"SM{index:032d}",
        error_code="30003" if status in ("failed", "undelivered") else "",
        simulated=rng.random() < 0.1,
        user=rng.choice(users) if rng.random() < 0.6 else None,
        created_at=created,
        sent_at=created + timedelta(seconds=1),
    )


def _grow(model_name: str, start: int, stop: int, users: list[Any]) -> None:
    """Insert rows ``start`` to ``stop`` of ``model_name`` in batches."""
    from patchbay import models

    model = getattr(models, model_name)
    rng, now = random.Random(f"{model_name}-{start}"), datetime.now(timezone.utc)
    make = {
        "IntegrationLog": lambda index: _log(rng, now, index),
        "WebhookEvent": lambda index: _event(rng, now, index),
        "SMS": lambda index: _sms(rng, now, index, users),
    }[model_name]
    for first in range(start, stop, BATCH):
        model.objects.bulk_create([make(index) for index in range(first, min(first + BATCH, stop))])


def _without_auto_now() -> None:
    # auto_now_add would stamp every bulk-inserted row "now"; the date hierarchy and
    # the index on the date need rows spread over months, as in a real table.
    from patchbay.models import SMS, IntegrationLog, WebhookEvent

    for model, name in ((IntegrationLog, "created_at"), (WebhookEvent, "received_at")):
        model._meta.get_field(name).auto_now_add = False  # type: ignore[union-attr]
    SMS._meta.get_field("created_at").auto_now_add = False  # type: ignore[union-attr]


# -- the measurement (in its own process) ---------------------------------------------------------


def measure(database: str, quick: bool) -> list[Figure]:
    environment = django_environment(database, label="admin")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    _without_auto_now()
    user_model = get_user_model()
    admin_user = user_model.objects.create_superuser("bench", "bench@example.com", "bench")
    users = [user_model.objects.create_user(f"user{i}", f"user{i}@example.com") for i in range(20)]
    client = Client()
    client.force_login(admin_user)
    urls = {name: f"/admin/patchbay/{name.lower()}/" for name in MODELS}
    sizes = QUICK_SIZES if quick else SIZES
    repeats = 3 if quick else 5

    queries: dict[str, list[int]] = {name: [] for name in MODELS}
    seconds: dict[str, list[float]] = {name: [] for name in MODELS}
    previous = 0
    for size in sizes:
        for name in MODELS:
            _grow(name, previous, size, users)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # as autovacuum does after a bulk insert
                cursor.execute("VACUUM ANALYZE")
        for name, url in urls.items():
            _check(client.get(url), name, size)  # warm-up: templates, caches
            with CaptureQueriesContext(connection) as captured:
                _check(client.get(url), name, size)
            queries[name].append(len(captured.captured_queries))
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                _check(client.get(url), name, size)
                timings.append(time.perf_counter() - started)
            seconds[name].append(statistics.median(timings))
        previous = size

    where = f"{environment['database']}, superuser, Django test client, median of {repeats}"
    figures: list[Figure] = []
    for name in MODELS:
        counts = queries[name]
        figures.append(
            Figure(
                name=f"Admin {name} changelist queries",
                baseline=f"queries at {sizes[0]:,} rows",
                baseline_value=float(counts[0]),
                value=float(counts[-1]),
                unit="queries",
                ratio=counts[-1] / counts[0],
                target=f"same at {' / '.join(f'{size:,}' for size in sizes)} rows",
                met=len(set(counts)) == 1,
                notes=f"queries by size: {' / '.join(map(str, counts))}",
            )
        )
        # Against the middle size: both render a full page (100 rows), so the ratio is
        # what the table's size costs, not the rendering of more rows.
        times = seconds[name]
        figures.append(
            Figure(
                name=f"Admin {name} changelist page",
                baseline=f"page at {sizes[1]:,} rows",
                baseline_value=times[1] * 1000,
                value=times[-1] * 1000,
                unit="ms",
                ratio=times[-1] / times[1],
                target=f"reported at {sizes[-1]:,} rows",
                met=None,
                notes=f"{where}; ms by size: {' / '.join(f'{t * 1000:.0f}' for t in times)}",
            )
        )
    return figures


def _check(response: Any, name: str, size: int) -> None:
    # A page that errors or shows no rows would time the wrong thing.
    if response.status_code != 200 or b'id="result_list"' not in response.content:
        raise RuntimeError(f"{name} changelist at {size} rows: HTTP {response.status_code}")
