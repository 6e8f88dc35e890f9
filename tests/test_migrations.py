from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    output = StringIO()
    try:
        call_command("makemigrations", "patchbay", check=True, dry_run=True, stdout=output)
    except SystemExit:  # --check exits non-zero when a migration is missing
        pytest.fail(f"The models and migrations differ:\n{output.getvalue()}")
    assert "No changes detected" in output.getvalue()
