from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from importlib.util import find_spec

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patchbay.testing import reset_state

pytest_plugins = ["patchbay.testing", "tests.workers"]
# The authorization server of tests/oauth2 is authlib's: absent where no extra is installed
# (tests/test_no_extras.py in CI's .venv-noextras).
if find_spec("authlib"):
    pytest_plugins.append("tests.oauth2_server")


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


def assert_constant_queries(admin_client, url, add_rows, *, few=3, many=60):
    """The changelist at ``url`` runs as many queries with ``many`` rows as with ``few``.

    ``add_rows(start, stop)`` creates rows ``start`` to ``stop - 1``.
    """

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    add_rows(0, few)
    admin_client.get(url)  # warm the session and content types
    queries_with_few, _ = count()
    add_rows(few, many)
    queries_with_many, shown = count()
    assert shown >= many
    assert queries_with_many == queries_with_few


@contextmanager
def inserts_refused(table):
    """Have the database itself refuse new rows of ``table`` (a failure no mock fakes).

    On PostgreSQL a constraint, on SQLite a trigger; removed at the end (a test
    without a transaction of its own would keep them).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT refuse_rows CHECK (false) NOT VALID"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER refuse_rows BEFORE INSERT ON {table}"
                " BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS refuse_rows")
            else:
                cursor.execute("DROP TRIGGER IF EXISTS refuse_rows")
