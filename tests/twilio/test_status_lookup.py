"""A status callback finds its message by its SID through an index, however many rows there are.

Without tenants, the lookup filters on ``external_id`` alone, which the
``(tenant_key, external_id)`` unique constraint cannot serve: PostgreSQL then
read every message in a pending status (a bitmap scan of the status index),
so each callback took longer the more messages a table, or a test's
transaction, held.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patchbay.models import SMS
from patchbay.twilio.tracking import apply_status
from tests.twilio.helpers import TO


def _indexes_led_by(column: str) -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, SMS._meta.db_table)
    return [
        name
        for name, about in constraints.items()
        if about["index"] and about["columns"] and about["columns"][0] == column
    ]


@pytest.mark.django_db
def test_the_sid_has_an_index_of_its_own():
    assert _indexes_led_by("external_id")


@pytest.mark.django_db
def test_the_status_update_reads_the_sid_index():
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    SMS.objects.bulk_create(
        SMS(to_number=TO, status="queued", external_id=f"SM{n:032d}") for n in range(300)
    )
    with CaptureQueriesContext(connection) as queries:
        assert apply_status(f"SM{7:032d}", "sent")
    [update] = [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + update)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    conditions = [line for line in plan.splitlines() if "Index Cond:" in line]
    assert any("external_id" in line for line in conditions), plan
