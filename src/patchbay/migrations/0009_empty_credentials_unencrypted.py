"""Store empty credentials as "" instead of an encrypted {}.

Releases before this one encrypted the empty credentials of the row migrate
makes for every service, so a new SECRET_KEY made every client raise
DecryptionError. Rows whose token still decrypts to {} are cleared here;
rows no key decrypts are left as they are (``check --database default``
lists them as patchbay.E024).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import migrations
from django.db.models import TextField, Value
from django.db.models.functions import Cast


def clear_empty_credentials(apps: Any, schema_editor: Any) -> None:
    from patchbay import crypto
    from patchbay.exceptions import ConfigurationError, DecryptionError

    ExternalService = apps.get_model("patchbay", "ExternalService")
    rows = ExternalService.objects.using(schema_editor.connection.alias)
    # Cast reads the token itself: the field would decrypt it.
    tokens = rows.annotate(token=Cast("credentials", output_field=TextField()))
    for pk, token in tokens.values_list("pk", "token"):
        if not token:
            continue
        try:
            empty = not json.loads(crypto.decrypt(token))
        except (DecryptionError, ConfigurationError, ValueError):
            continue
        if empty:
            rows.filter(pk=pk).update(credentials=Value("", output_field=TextField()))


class Migration(migrations.Migration):

    dependencies = [
        ("patchbay", "0008_integrationlog_created_at_default"),
    ]

    operations = [
        migrations.RunPython(clear_empty_credentials, migrations.RunPython.noop, elidable=True),
    ]
