"""Drop the ``tenant_key`` indexes no query reads, on the two tables written per delivery.

Every index is written on each ``INSERT``: a webhook delivery inserts a
``WebhookEvent`` and an ``IntegrationLog`` row, a call its ``IntegrationLog``
row.

- ``WebhookEvent``: both of the column's indexes (the B-tree and, on
  PostgreSQL, the ``varchar_pattern_ops`` one ``db_index`` adds for ``LIKE``).
  The unique constraint's index, ``(tenant_key, provider, event_id)``, starts
  with the column and serves every query by tenant.
- ``IntegrationLog``: the ``varchar_pattern_ops`` index only (nothing filters a
  tenant key with ``LIKE``). The B-tree, which the admin's tenant filter, the
  API's ``?tenant=`` and the dashboard read, is kept and renamed
  ``patchbay_log_tenant_idx`` (declared in ``Meta.indexes``): renamed, not
  built again, so a large log table is not locked while an index is built.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import patchbay.tenancy

LOG_TENANT_INDEX = "patchbay_log_tenant_idx"


def unindexed_tenant_key() -> models.CharField[str, str]:
    return models.CharField(
        blank=True, default=patchbay.tenancy.current_tenant_key, max_length=64, verbose_name="tenant"
    )


def _tenant_key_indexes(schema_editor: Any, table: str) -> list[str]:
    """The names of the indexes on ``tenant_key`` alone (the B-tree, the ``_like`` one)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return sorted(
        name
        for name, info in constraints.items()
        if info["columns"] == ["tenant_key"]
        and info["index"]
        and not (info["unique"] or info["primary_key"])
    )


def keep_the_plain_log_index(apps: Any, schema_editor: Any) -> None:
    log = apps.get_model("patchbay", "IntegrationLog")
    kept = None
    for name in _tenant_key_indexes(schema_editor, log._meta.db_table):
        if name.endswith("_like"):  # PostgreSQL's, for LIKE 'prefix%': no query has one
            schema_editor.remove_index(log, models.Index(fields=["tenant_key"], name=name))
        elif kept is None:
            kept = name
    new = models.Index(fields=["tenant_key"], name=LOG_TENANT_INDEX)
    if kept is None:  # never made (a database migrated by hand): made now
        schema_editor.add_index(log, new)
    elif kept != LOG_TENANT_INDEX:
        schema_editor.rename_index(log, models.Index(fields=["tenant_key"], name=kept), new)


def restore_the_field_indexes(apps: Any, schema_editor: Any) -> None:
    # The indexes db_index=True makes, with Django's names: those 0019 made.
    log = apps.get_model("patchbay", "IntegrationLog")
    schema_editor.remove_index(log, models.Index(fields=["tenant_key"], name=LOG_TENANT_INDEX))
    indexed = log._meta.get_field("tenant_key")
    plain = indexed.clone()
    plain.set_attributes_from_name("tenant_key")
    plain.model = log
    plain.db_index = False
    schema_editor.alter_field(log, plain, indexed)


class Migration(migrations.Migration):

    dependencies = [
        ("patchbay", "0020_logrollup_dashboard"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookevent",
            name="tenant_key",
            field=unindexed_tenant_key(),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="integrationlog",
                    name="tenant_key",
                    field=unindexed_tenant_key(),
                ),
                migrations.AddIndex(
                    model_name="integrationlog",
                    index=models.Index(fields=["tenant_key"], name=LOG_TENANT_INDEX),
                ),
            ],
            database_operations=[
                migrations.RunPython(keep_the_plain_log_index, restore_the_field_indexes),
            ],
        ),
    ]
