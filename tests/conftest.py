from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from django.db import connection

from patchbay.core.config import forget_service_rows
from patchbay.core.simulation import outbox


@pytest.fixture(autouse=True)
def _isolated_state():
    """Every test starts with an empty cache, outbox and service-row cache."""
    cache.clear()
    outbox.clear()
    forget_service_rows()
    yield
    forget_service_rows()


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
