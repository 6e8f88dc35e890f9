"""Switch simulation on or off in tests, and forget state between tests."""

from __future__ import annotations

from django.test import override_settings

from patchbay.core import registry
from patchbay.core.breaker import CircuitBreaker
from patchbay.core.config import forget_service_rows
from patchbay.core.simulation import outbox
from patchbay.core.throttle import Throttle


def simulate(enabled: bool = True) -> override_settings:
    """Force simulation on (or off with ``enabled=False``) whatever ``DEBUG`` says.

    It is Django's ``override_settings(PATCHBAY_SIMULATE=...)``, so it works as a
    context manager, a test method decorator and a ``TestCase`` class decorator.
    """
    return override_settings(PATCHBAY_SIMULATE=enabled)


def live() -> override_settings:
    """Force simulation off: clients make real calls (mock them, e.g. with ``responses``)."""
    return simulate(False)


def reset_state() -> None:
    """Forget what patchbay keeps between tests: the outbox, breakers, outbound rate
    limits, cached service rows.

    The test database is rolled back after each test but this state lives in
    memory and in the cache, so without a reset one test's failures could
    short-circuit the next test's calls, and one test's refused webhook
    delivery keep the next one's from being stored.
    """
    # Imported here: the recorder brings the models, which a pytest plugin loads too early.
    from patchbay.core.health import forget_simulation_notes
    from patchbay.core.recording import forget_refusals

    outbox.clear()
    forget_refusals()
    forget_service_rows()
    forget_simulation_notes()
    for client_class in registry.client_classes():
        CircuitBreaker(client_class.provider).reset()
        Throttle(client_class.provider).reset()
