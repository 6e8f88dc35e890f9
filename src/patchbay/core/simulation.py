"""The simulation decision and the simulated outbox.

Simulating, a client makes no network call: it answers with a result of the
same shape as a live one plus ``"simulated": True`` and appends what it would
have sent to :data:`outbox`, which tests assert on (like ``mail.outbox``).
It also tells the developer on :data:`console`, the ``patchbay.simulation``
logger, as Django's console email backend would.
"""

from __future__ import annotations

import logging
import secrets
import sys
import threading
from datetime import datetime, timezone
from typing import Any, NamedTuple

from django.conf import settings

from patchbay.conf import conf

#: The simulated console: every simulated call, and what simulated emails and messages
#: say, codes and links included, at INFO. Only simulation logs here (never a live call),
#: so a production log pipeline can drop this logger whole.
console = logging.getLogger("patchbay.simulation")


def show_console_while_debugging(logger: logging.Logger = console) -> bool:
    """Show ``logger`` on stderr while ``DEBUG`` is on, unless logging already handles it.

    A fresh project configures no handler for it, and Python shows ``INFO``
    records only through one: simulated sign-in links and codes would reach no
    one. Like Django's default ``django`` console handler, this one passes records
    only while ``DEBUG`` is True, and a project whose ``LOGGING`` reaches the
    logger (its own handlers or the root's) is left alone. Returns whether it
    added the handler.
    """
    if logger.hasHandlers():
        return False
    from django.utils.log import RequireDebugTrue

    handler = logging.StreamHandler()
    handler.addFilter(RequireDebugTrue())
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return True


def should_simulate(debug_mode: bool | None = None) -> bool:
    """``debug_mode``, else ``PATCHBAY_SIMULATE``, else ``TESTING is True``, else ``DEBUG``."""
    if debug_mode is not None:
        return bool(debug_mode)
    forced = conf.SIMULATE
    if forced is not None:
        return bool(forced)
    if conf.TESTING is True:
        return True
    return bool(settings.DEBUG)


def in_test_environment() -> bool:
    """Whether Django's test environment is set up: a test run, never a server.

    Django's test runner and pytest-django call
    ``django.test.utils.setup_test_environment()``, which turns ``DEBUG`` off
    for the run; a server never calls it. It is not imported here: a process
    that never imported ``django.test.utils`` has no test environment.

    It reads ``_TestState.saved_data``, private to Django, because nothing public
    tells a test run apart (``mail.outbox`` also exists on a server using the
    locmem email backend). Should a Django release rename it, test runs would
    look like servers and refuse the public secrets: the failure is closed.
    """
    utils = sys.modules.get("django.test.utils")
    return utils is not None and hasattr(utils._TestState, "saved_data")


def simulation_secrets_accepted(debug_mode: bool | None = None) -> bool:
    """Whether a delivery signed with a public simulation secret may be accepted now.

    patchbay's simulation signs the webhooks it delivers to the project's own
    endpoints; without a configured secret it signs with one written in
    patchbay's source, which anyone can read. Such a delivery is accepted
    only while simulating (:func:`should_simulate` of ``debug_mode``) with
    ``DEBUG`` on, or in a test run (:func:`in_test_environment`), where the
    test runner turns ``DEBUG`` off. Never on a server with ``DEBUG`` off,
    whatever :setting:`PATCHBAY_SIMULATE` or
    :setting:`PATCHBAY_SIMULATE_WITHOUT_DEBUG` say. Every
    :class:`~patchbay.webhooks.verification.WebhookVerifier` consults it.
    """
    if not should_simulate(debug_mode):
        return False
    return bool(settings.DEBUG) or in_test_environment()


def fake_id(prefix: str, length: int = 24) -> str:
    """An id shaped like the provider's, e.g. ``fake_id("cus_")``."""
    return prefix + secrets.token_hex(length // 2 + 1)[:length]


class SimulatedCall(NamedTuple):
    """One call a simulating client would have made.

    ``created_at`` is set when the call is appended to the outbox, if not before.
    """

    provider: str
    operation: str
    data: dict[str, Any]
    created_at: datetime | None = None


class Outbox:
    """Thread-safe list of :class:`SimulatedCall`, newest last."""

    def __init__(self) -> None:
        self._calls: list[SimulatedCall] = []
        self._lock = threading.Lock()

    def append(self, call: SimulatedCall) -> None:
        """Record a simulated call (clients do this)."""
        if call.created_at is None:
            call = call._replace(created_at=datetime.now(timezone.utc))
        with self._lock:
            self._calls.append(call)

    def clear(self) -> None:
        """Forget every recorded call."""
        with self._lock:
            self._calls.clear()

    def filter(
        self, provider: str | None = None, operation: str | None = None
    ) -> list[SimulatedCall]:
        """The calls matching ``provider`` and ``operation`` (None matches any)."""
        with self._lock:
            return [
                call
                for call in self._calls
                if (provider is None or call.provider == provider)
                and (operation is None or call.operation == operation)
            ]

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.filter())

    def __getitem__(self, index: int) -> SimulatedCall:
        return self.filter()[index]


outbox = Outbox()
