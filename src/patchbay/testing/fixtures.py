"""pytest fixtures, enabled with ``pytest_plugins = ["patchbay.testing"]``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from patchbay.core.simulation import Outbox, outbox
from patchbay.testing.simulation import live, reset_state, simulate


@pytest.fixture
def patchbay_simulate() -> Iterator[None]:
    """Simulation on for the test: no client call leaves the machine."""
    with simulate():
        yield


@pytest.fixture
def patchbay_live() -> Iterator[None]:
    """Simulation off for the test, even with ``DEBUG = True``; mock the network yourself."""
    with live():
        yield


@pytest.fixture
def patchbay_outbox() -> Outbox:
    """The simulated outbox, emptied, to assert on what simulated clients "sent"."""
    outbox.clear()
    return outbox


@pytest.fixture
def patchbay_reset() -> Iterator[None]:
    """Forget the outbox, circuit breakers and cached service rows before and after the test."""
    reset_state()
    yield
    reset_state()
