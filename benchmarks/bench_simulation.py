"""Figure 5: simulated ``send_sms`` per second, with its rows and its status callbacks.

Simulation is how test suites and development run. The subject is the
``patchbay.twilio.shortcuts.send_sms`` shortcut with simulation on, in a
project that mounts patchbay's URLs: each send stores its SMS and
IntegrationLog rows and delivers its three signed status callbacks (queued,
sent, delivered) through the webhook pipeline, as a test suite's sends do.
Its baseline is writing the SMS and IntegrationLog rows with the ORM and
nothing else, so the ratio is what simulating costs on top of the writes.

The target (at least 1,000 sends per second per process) is checked where
throughput matters, in a test suite: inside a transaction that is rolled back,
as Django's ``TestCase`` and pytest-django run tests. The same in autocommit
(each row its own commit, as on a development server) follows as information.
"""

from __future__ import annotations

import itertools
from typing import Any

from benchmarks.common import (
    Figure,
    Settings,
    call_in_subprocess,
    compare,
    django_environment,
    figures_from,
    postgres_available,
)

PER_SECOND = 1000
TO_NUMBER = "+14155552671"
BODY = "Your order has shipped."
AUTH_TOKEN = "f" * 32


def run(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    variants = [("sqlite", "transaction"), ("postgres", "transaction")]
    if not quick:
        variants += [("sqlite", "autocommit"), ("postgres", "autocommit")]
    for database, mode in variants:
        if database == "postgres" and not postgres_available():
            reason = "PostgreSQL or Redis is not reachable"
            figures.append(Figure.skipped(f"Simulated send_sms, {mode} (PostgreSQL)", reason))
            continue
        kwargs = {"database": database, "quick": quick, "mode": mode}
        figures += figures_from(call_in_subprocess(__name__, "measure", kwargs, timeout=600))
    return figures


def measure(database: str, quick: bool, mode: str) -> list[Figure]:
    """``mode``: ``"transaction"`` or ``"autocommit"``.

    patchbay's URLs are mounted, as in a project: a tracked simulated send delivers its
    three status callbacks to the status endpoint (without the endpoint it is refused
    with ``urls_not_mounted``), so every figure includes them.
    """
    environment = django_environment(
        database,
        label="simulation",
        ROOT_URLCONF="benchmarks.urls",
        PATCHBAY_SIMULATE=True,
        # The callbacks are signed with the project's token: without one (and with DEBUG
        # off, outside a test run) none would be delivered, and the figure would leave
        # out what a test suite's sends do (a test run accepts the simulation's secret).
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
    )
    from django.db import transaction

    from patchbay.core.recording import flush
    from patchbay.core.simulation import fake_id, outbox
    from patchbay.models import SMS, IntegrationLog
    from patchbay.twilio.shortcuts import send_sms

    serial = itertools.count()

    def simulated() -> Any:
        result = send_sms(TO_NUMBER, BODY)
        assert result["success"], result
        assert result["simulated"], result
        assert result["sms_id"], result
        if next(serial) % 1000 == 0:
            outbox.clear()  # it lives in memory, for tests to read; keep it small
        return result

    def rows_only() -> Any:
        SMS.objects.create(
            to_number=TO_NUMBER,
            channel="sms",
            from_number="+15005550006",
            body=BODY,
            simulated=True,
            status="queued",
            external_id=fake_id("SM", 32),
        )
        return IntegrationLog.objects.create(
            provider="twilio",
            operation="send_sms",
            success=True,
            simulated=True,
            duration_ms=0,
            request_summary={"to": TO_NUMBER, "body_length": len(BODY), "channel": None},
        )

    if quick:
        how = Settings(rounds=3, batch=10, warmup=5)
    elif mode == "transaction":
        how = Settings(15, 200, 100)
    else:
        how = Settings(7, 50, 20)
    inbound = IntegrationLog.objects.filter(direction="inbound", success=True)
    if mode == "transaction":
        with transaction.atomic():
            result = compare(rows_only, simulated, how)
            delivered = inbound.count()  # rolled back with the transaction
            transaction.set_rollback(True)
    else:
        result = compare(rows_only, simulated, how)
        flush()  # in autocommit the callbacks' log rows are the background writer's to store
        delivered = inbound.count()
    expected = 3 * (how.warmup + how.rounds * how.batch)
    assert delivered == expected, f"{delivered} status callbacks delivered, not {expected}"
    label = "PostgreSQL" if database == "postgres" else "SQLite"
    per_second = 1 / result.subject
    name, target, met = {
        "transaction": (
            f"Simulated send_sms + 3 status callbacks in a test transaction ({label})",
            f">= {PER_SECOND:,}/s",
            per_second >= PER_SECOND,
        ),
        "autocommit": (
            f"Simulated send_sms + 3 status callbacks, autocommit ({label})",
            "informative",
            None,
        ),
    }[mode]
    return [
        Figure(
            name=name,
            baseline="the SMS and IntegrationLog rows alone",
            baseline_value=1 / result.baseline,
            value=per_second,
            unit="per s",
            ratio=per_second * result.baseline,
            target=target,
            met=met,
            notes=f"{environment['database']}, {environment['cache']}; "
            f"{how.rounds} rounds of {how.batch}",
        )
    ]
