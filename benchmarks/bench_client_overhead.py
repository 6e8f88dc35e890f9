"""Figure 1: a patchbay client call vs the bare SDK making the same request.

Both sides send the same request to the same stub server (a real socket on
127.0.0.1, in another process) with the SDK configured the same way (timeout,
retries). patchbay's side is the whole call as a project makes it: a new
client, its configuration, the circuit breaker, the live call, the health
UPDATE and the IntegrationLog row (and for Twilio the opt-out check and the
SMS row). Rows the background writer stores count: each batch of calls ends
when its records are stored. Target: at most 1.15x the bare SDK's median, on
SQLite and on PostgreSQL (+ Redis as the cache). Beside each, informative: the
bare SDK plus one model row the project saves itself per call (a log row; for
Twilio the message's row), what a project without patchbay would do.
"""

from __future__ import annotations

import functools
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from benchmarks.common import (
    Figure,
    Settings,
    StubServer,
    call_in_subprocess,
    compare,
    django_environment,
    figures_from,
    postgres_available,
)

TARGET = 1.15
STRIPE_KEY = "sk_test_" + "b" * 24
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "f" * 32
TWILIO_FROM = "+15005550006"
LOOPS_KEY = "loops-bench-" + "k" * 20
TO_NUMBER = "+14155552671"
EMAIL = "ada@example.com"
CUSTOMER: dict[str, Any] = {"name": "Ada Lovelace", "metadata": {"plan": "pro"}}
#: The provider of the baselines' own rows (kept apart from patchbay's in the counts).
OWN_PROVIDER = "project"
SERVICES = ("Stripe create_customer", "Twilio send_sms", "Loops transactional_email")


# (database, SQLite transaction mode): the targets, then a diagnostic.
VARIANTS = (("sqlite", None), ("postgres", None), ("sqlite", "IMMEDIATE"))


def run(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    for database, transaction_mode in VARIANTS if not quick else VARIANTS[:2]:
        if database == "postgres" and not postgres_available():
            reason = "PostgreSQL or Redis is not reachable"
            figures += [Figure.skipped(f"{name} (PostgreSQL)", reason) for name in SERVICES]
            continue
        kwargs = {"database": database, "quick": quick, "transaction_mode": transaction_mode}
        figures += figures_from(call_in_subprocess(__name__, "measure", kwargs, timeout=600))
    return figures


def measure(database: str, quick: bool, transaction_mode: str | None = None) -> list[Figure]:
    """Every figure of one database, in this (fresh) process.

    With Django's defaults SQLite records each call in the calling thread (see
    the docs' "Recording in the background"); ``transaction_mode="IMMEDIATE"``,
    Django's advice for SQLite shared by threads, lets the background writer
    record them: a diagnostic of what that setting changes.
    """
    how = Settings(rounds=3, batch=10, warmup=5) if quick else Settings(21, 40, 40)
    diagnostic = transaction_mode is not None
    with StubServer() as stub:
        environment = django_environment(
            database,
            label="client_overhead",
            database_options={"transaction_mode": transaction_mode} if diagnostic else None,
            STRIPE_API_KEY=STRIPE_KEY,
            STRIPE_API_BASE=stub.url,
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_PHONE_NUMBER=TWILIO_FROM,
            LOOPS_API_KEY=LOOPS_KEY,
            LOOPS_API_BASE=stub.url + "/api/v1",
        )
        where = f"{environment['database']}, {environment['cache']}"
        label = "PostgreSQL" if database == "postgres" else "SQLite"
        if diagnostic:
            label += f", transaction_mode {transaction_mode}"
        twilio = _patchbay_twilio(stub.url)
        # (baseline, its name, patchbay, whether the figure has the target)
        stripe, loops = _patchbay_stripe(), _patchbay_loops()
        # Each beside what a project without patchbay would do: call, then save a row of
        # its own (a log row; for Twilio the message's), in autocommit as views do.
        own_row = "bare SDK + own log row"
        pairs = {
            "Stripe create_customer": (_bare_stripe(stub.url), "bare SDK", stripe),
            "Stripe create_customer vs SDK + own row": (
                _with_own_row(_bare_stripe(stub.url), "create_customer"),
                own_row,
                stripe,
            ),
            "Twilio send_sms": (_bare_twilio(stub.url), "bare SDK", twilio),
            "Twilio send_sms vs SDK + own row": (
                _bare_twilio(stub.url, save_row=True),
                "bare SDK + own SMS row",
                twilio,
            ),
            "Loops transactional_email": (_bare_loops(stub.url), "bare SDK", loops),
            "Loops transactional_email vs SDK + own row": (
                _with_own_row(_bare_loops(stub.url), "transactional_email"),
                own_row,
                loops,
            ),
        }
        from patchbay.core.recording import flush
        from patchbay.models import IntegrationLog

        figures = []
        for name, (bare, baseline_name, patchbay) in pairs.items():
            has_target = not diagnostic and baseline_name == "bare SDK"
            before = sum(stub.stats().values())
            patchbays_rows = IntegrationLog.objects.exclude(provider=OWN_PROVIDER)
            rows_before = patchbays_rows.count()
            # Each of patchbay's batches ends when its calls' records are stored, even
            # those the background writer stores: the time they take counts.
            settled: list[float] = []
            result = compare(bare, patchbay, how, settle=functools.partial(_timed, flush, settled))
            waited = statistics.median(settled) / how.batch * 1000
            sent = sum(stub.stats().values()) - before
            expected = 2 * (how.warmup + how.rounds * how.batch)
            assert sent == expected, f"{name}: {sent} requests reached the stub, not {expected}"
            rows = patchbays_rows.count() - rows_before
            assert rows == expected // 2, f"{name}: {rows} IntegrationLog rows, not {expected // 2}"
            added = (result.subject - result.baseline) * 1000
            figures.append(
                Figure(
                    name=f"{name} ({label})",
                    baseline=baseline_name,
                    baseline_value=result.baseline * 1000,
                    value=result.subject * 1000,
                    unit="ms/call",
                    ratio=result.ratio,
                    target=f"<= {TARGET}x" if has_target else "diagnostic",
                    met=result.ratio <= TARGET if has_target else None,
                    notes=f"{where}; +{added:.2f} ms per call, of which {waited:.2f} ms "
                    "waiting at the end of each batch for its records to be stored; "
                    f"{how.rounds} rounds of {how.batch}",
                )
            )
        if not diagnostic:
            figures += _core_costs(label, quick)
    return figures


def _timed(fn: Callable[[], object], durations: list[float]) -> None:
    started = time.perf_counter()
    fn()
    durations.append(time.perf_counter() - started)


# -- the two sides of each figure -----------------------------------------------------------


def _with_own_row(call: Callable[[], Any], operation: str) -> Callable[[], Any]:
    """``call``, then the row a project would save about it (a model of the same shape)."""
    from patchbay.models import IntegrationLog

    def call_and_save() -> Any:
        started = time.perf_counter()
        answer = call()
        IntegrationLog.objects.create(
            provider=OWN_PROVIDER,
            operation=operation,
            success=True,
            duration_ms=round((time.perf_counter() - started) * 1000),
            request_summary={"email": EMAIL},
        )
        return answer

    return call_and_save


def _bare_stripe(stub_url: str) -> Callable[[], Any]:
    import stripe
    from patchbay.conf import conf

    client = stripe.StripeClient(
        STRIPE_KEY,
        base_addresses={"api": stub_url},
        max_network_retries=conf.MAX_RETRIES,
        http_client=stripe.new_default_http_client(timeout=conf.TIMEOUT),
    )
    params: Any = {"email": EMAIL, **CUSTOMER}  # the SDK types it as a TypedDict
    return lambda: client.v1.customers.create(params=params)


def _patchbay_stripe() -> Callable[[], Any]:
    from patchbay.stripe.client import StripeClient

    def call() -> Any:
        result = StripeClient().create_customer(EMAIL, **CUSTOMER)
        assert result["success"], result
        assert not result.get("simulated"), result
        return result

    return call


def _bare_twilio(stub_url: str, *, save_row: bool = False) -> Callable[[], Any]:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    from patchbay.conf import conf

    client = Client(
        TWILIO_SID,
        TWILIO_TOKEN,
        http_client=TwilioHttpClient(timeout=conf.TIMEOUT, max_retries=conf.MAX_RETRIES),
    )
    # The SDK has no base-URL option; each API domain keeps its base URL in an attribute.
    client.api.base_url = stub_url
    if not save_row:
        return lambda: client.messages.create(to=TO_NUMBER, from_=TWILIO_FROM, body="Shipped.")

    from patchbay.models import SMS

    def send_and_save() -> Any:
        message = client.messages.create(to=TO_NUMBER, from_=TWILIO_FROM, body="Shipped.")
        return SMS.objects.create(
            to_number=TO_NUMBER,
            from_number=TWILIO_FROM,
            body="Shipped.",
            status=message.status,
            external_id=message.sid,
        )

    return send_and_save


def _patchbay_twilio(stub_url: str) -> Callable[[], Any]:
    from patchbay.twilio.client import TwilioClient
    from patchbay.twilio.shortcuts import send_sms

    # patchbay's SDK client is built once per process and configuration: aim that one.
    TwilioClient().twilio.api.base_url = stub_url

    def call() -> Any:
        result = send_sms(TO_NUMBER, "Shipped.")
        assert result["success"], result
        assert result["sms_id"], result
        assert not result.get("simulated"), result
        return result

    return call


def _bare_loops(stub_url: str) -> Callable[[], Any]:
    import requests

    from patchbay.conf import conf

    session = requests.Session()
    url = stub_url + "/api/v1/transactional"
    payload = {"transactionalId": "tx_welcome", "email": EMAIL, "dataVariables": {"name": "Ada"}}

    def call() -> Any:
        headers = {
            "Authorization": f"Bearer {LOOPS_KEY}",
            "Accept": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        return session.post(url, json=payload, headers=headers, timeout=conf.TIMEOUT).json()

    return call


def _patchbay_loops() -> Callable[[], Any]:
    from patchbay.loops.client import LoopsClient

    def call() -> Any:
        result = LoopsClient().transactional_email(EMAIL, "tx_welcome", {"name": "Ada"})
        assert result["success"], result
        assert not result.get("simulated"), result
        return result

    return call


# -- what each step of the core costs -------------------------------------------------------


def _core_costs(label: str, quick: bool) -> list[Figure]:
    """Microseconds per step of a live call in the core, each measured alone."""
    from patchbay.core.breaker import CircuitBreaker
    from patchbay.core.config import load_service_row
    from patchbay.core.health import Outcome
    from patchbay.core.recording import CallRecord, store_records
    from patchbay.redaction import Redactor
    from patchbay.stripe.client import StripeClient

    redactor = Redactor([STRIPE_KEY])
    breaker = CircuitBreaker("stripe")
    params = {"email": EMAIL, **CUSTOMER}
    steps: dict[str, Callable[[], object]] = {
        "new client (configuration)": lambda: StripeClient().config,
        "ExternalService row (cached)": lambda: load_service_row("stripe"),
        "breaker check (one cache read)": breaker.admit,
        "redaction of the params": lambda: redactor.data(params),
        "health UPDATE + IntegrationLog INSERT (one commit)": lambda: store_records(
            [
                CallRecord(
                    provider="stripe",
                    operation="create_customer",
                    success=True,
                    duration_ms=1,
                    summary=redactor.data(params),
                    health=Outcome(success=True),
                )
            ]
        ),
    }
    repeat = 50 if quick else 500
    figures = []
    for step, fn in steps.items():
        for _ in range(repeat // 10):
            fn()
        started = time.perf_counter()
        for _ in range(repeat):
            fn()
        cost = (time.perf_counter() - started) / repeat * 1e6
        figures.append(
            Figure(f"core step: {step} ({label})", "", None, cost, "us/call", None, "", None)
        )
    return figures
