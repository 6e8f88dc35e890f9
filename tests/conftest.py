from __future__ import annotations

import os
import threading

import pytest
from django.core.cache import cache
from django.db import connection

from patchbay.testing import reset_state

pytest_plugins = ["patchbay.testing"]


@pytest.fixture(autouse=True)
def _isolated_state():
    """Every test starts with an empty cache and outbox, closed breakers, no cached rows."""
    cache.clear()
    reset_state()
    yield
    reset_state()


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL")
    return url


def run_concurrently(action, times):
    """Run ``action`` in ``times`` threads at once, each on its own connection; its results."""
    results = []

    def worker():
        try:
            results.append(action())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
