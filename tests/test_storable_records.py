"""Records of calls keep what the database cannot store as text it can: nothing is dropped.

SQLite stores NUL and NaN in JSON without complaint; PostgreSQL's jsonb refuses
both, so the tests that prove the point need PostgreSQL.
"""

from __future__ import annotations

import math

import pytest

from patchbay.core.arguments import storable_json
from patchbay.core.recording import record_call
from patchbay.loops.events import is_suppressed
from patchbay.models import EmailSuppression, IntegrationLog


def test_storable_json_keeps_every_value_readable():
    data = {
        "body\x00": "a\x00b",
        "ratio": math.nan,
        "big": math.inf,
        "nested": [{"x": "\ud800"}, -math.inf, 1.5, True, None],
    }
    assert storable_json(data) == {
        "body\ufffd": "a\ufffdb",
        "ratio": "NaN",
        "big": "Infinity",
        "nested": [{"x": "\ufffd"}, "-Infinity", 1.5, True, None],
    }
    assert data["ratio"] is math.nan or math.isnan(data["ratio"])  # the caller's data unchanged


def test_storable_json_bounds_depth():
    deep: list[object] = []
    node = deep
    for _ in range(200):
        child: list[object] = []
        node.append(child)
        node = child
    stored = storable_json(deep)
    depth = 0
    while isinstance(stored, list) and stored:
        stored, depth = stored[0], depth + 1
    assert depth <= 100


def test_a_call_whose_summary_holds_nul_and_nan_is_recorded(postgres_only):
    record_call(
        provider="acme",
        operation="send\x00",
        success=False,
        duration_ms=1,
        error="bad\x00",
        error_code="invalid_request",
        summary={"to\x00": "a\x00b", "amount": math.nan},
    )
    row = IntegrationLog.objects.get(provider="acme")
    assert row.request_summary == {"to\ufffd": "a\ufffdb", "amount": "NaN"}
    assert row.error == "bad\ufffd"


@pytest.mark.django_db
def test_is_suppressed_with_a_nul_answers_no_suppression(db):
    EmailSuppression.objects.create(email="ada@example.com", reason="bounced")
    assert is_suppressed("ada@example.com\x00") is None
    assert is_suppressed(" ADA@example.com ") is not None


def test_is_suppressed_with_a_nul_on_postgres(postgres_only):
    assert is_suppressed("a\x00@example.com") is None
