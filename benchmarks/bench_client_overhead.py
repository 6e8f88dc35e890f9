"""Figure 1: a patchbay client call vs the bare SDK making the same request.

Both sides send the same request to the same stub server (a real socket on
127.0.0.1, in another process) with the SDK configured the same way (timeout,
retries). patchbay's side is the whole call as a project makes it: a new
client, its configuration, the circuit breaker, the live call, the health
UPDATE and the IntegrationLog row (and for Twilio the opt-out check and the
SMS row). Target: at most 1.15x the bare SDK's median, on SQLite and on
PostgreSQL (+ Redis as the cache).
"""

from __future__ import annotations

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
SERVICES = ("Stripe create_customer", "Twilio send_sms", "Loops transactional_email")


def run(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    variants = [("sqlite", False), ("postgres", False)]
    if not quick:
        variants.append(("postgres", True))
    for database, async_commit in variants:
        if database == "postgres" and not postgres_available():
            reason = "PostgreSQL or Redis is not reachable"
            figures += [Figure.skipped(f"{name} (PostgreSQL)", reason) for name in SERVICES]
            break
        kwargs = {"database": database, "quick": quick, "async_commit": async_commit}
        figures += figures_from(call_in_subprocess(__name__, "measure", kwargs, timeout=600))
    return figures


def measure(database: str, quick: bool, async_commit: bool = False) -> list[Figure]:
    """Every figure of one database, in this (fresh) process.

    ``async_commit`` is a diagnostic: PostgreSQL with ``synchronous_commit=off``,
    which does not wait for the disk at commit, shows how much of the overhead
    is the disk flush of the transaction rather than patchbay's own work.
    """
    how = Settings(rounds=3, batch=10, warmup=5) if quick else Settings(21, 40, 40)
    if async_commit:
        how = Settings(11, 40, 40)
    with StubServer() as stub:
        environment = django_environment(
            database,
            label="client_overhead",
            database_options={"options": "-c synchronous_commit=off"} if async_commit else None,
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
        if async_commit:
            label += ", synchronous_commit=off"
        pairs = {
            "Stripe create_customer": (_bare_stripe(stub.url), _patchbay_stripe()),
            "Twilio send_sms": (_bare_twilio(stub.url), _patchbay_twilio(stub.url)),
            "Loops transactional_email": (_bare_loops(stub.url), _patchbay_loops()),
        }
        figures = []
        for name, (bare, patchbay) in pairs.items():
            before = sum(stub.stats().values())
            result = compare(bare, patchbay, how)
            sent = sum(stub.stats().values()) - before
            expected = 2 * (how.warmup + how.rounds * how.batch)
            assert sent == expected, f"{name}: {sent} requests reached the stub, not {expected}"
            added = (result.subject - result.baseline) * 1000
            figures.append(
                Figure(
                    name=f"{name} ({label})",
                    baseline="bare SDK",
                    baseline_value=result.baseline * 1000,
                    value=result.subject * 1000,
                    unit="ms/call",
                    ratio=result.ratio,
                    target="diagnostic" if async_commit else f"<= {TARGET}x",
                    met=None if async_commit else result.ratio <= TARGET,
                    notes=f"{where}; +{added:.2f} ms per call; {how.rounds} rounds of {how.batch}",
                )
            )
        if not async_commit:
            figures += _core_costs(label, quick)
    return figures


# -- the two sides of each figure -----------------------------------------------------------


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


def _bare_twilio(stub_url: str) -> Callable[[], Any]:
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
    return lambda: client.messages.create(to=TO_NUMBER, from_=TWILIO_FROM, body="Shipped.")


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
    from patchbay.core.recording import record_call
    from patchbay.redaction import Redactor
    from patchbay.stripe.client import StripeClient

    redactor = Redactor([STRIPE_KEY])
    breaker = CircuitBreaker("stripe")
    params = {"email": EMAIL, **CUSTOMER}
    steps: dict[str, Callable[[], object]] = {
        "new client (configuration)": StripeClient,
        "ExternalService row (cached)": lambda: load_service_row("stripe"),
        "breaker check (one cache read)": breaker.admit,
        "redaction of the params": lambda: redactor.data(params),
        "health UPDATE + IntegrationLog INSERT (one commit)": lambda: record_call(
            provider="stripe",
            operation="create_customer",
            success=True,
            duration_ms=1,
            summary=redactor.data(params),
            health={"success": True, "name": "Stripe"},
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
