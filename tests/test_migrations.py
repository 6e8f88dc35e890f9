from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Model

from patchbay.models import SMS, IntegrationLog, WebhookEvent


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    output = StringIO()
    try:
        call_command("makemigrations", "patchbay", check=True, dry_run=True, stdout=output)
    except SystemExit:  # --check exits non-zero when a migration is missing
        pytest.fail(f"The models and migrations differ:\n{output.getvalue()}")
    assert "No changes detected" in output.getvalue()


def _single_column_indexes(model: type[Model], column: str) -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return sorted(
        name
        for name, info in constraints.items()
        if info["columns"] == [column] and info["index"] and not info["primary_key"]
    )


@pytest.mark.django_db
def test_the_tables_written_per_delivery_keep_only_the_tenant_indexes_a_query_reads():
    # Every index is written on each INSERT. The event's unique constraint starts with
    # tenant_key and serves its queries by tenant; the log keeps one plain B-tree (no
    # varchar_pattern_ops twin on PostgreSQL: nothing filters tenant keys with LIKE).
    assert _single_column_indexes(WebhookEvent, "tenant_key") == []
    assert _single_column_indexes(IntegrationLog, "tenant_key") == ["patchbay_log_tenant_idx"]
    # Other tenant-scoped tables keep what db_index makes.
    assert _single_column_indexes(SMS, "tenant_key")
