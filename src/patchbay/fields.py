"""Model fields whose database column never holds the secret in clear."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from patchbay import crypto


class EncryptedJSONField(models.TextField):  # type: ignore[type-arg]
    """A JSON object stored as a Fernet token.

    Read it like a ``JSONField`` holding a dict; the column holds only
    ciphertext, or ``""`` for an empty object, which needs no key to read.
    It cannot be filtered on, by design.
    """

    description = "A JSON object encrypted at rest"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict[str, Any]:
        if not value:
            return {}
        decoded: dict[str, Any] = json.loads(crypto.decrypt(value))
        return decoded

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        parsed: dict[str, Any] = json.loads(value)
        return parsed

    def get_prep_value(self, value: Any) -> str:
        # Nothing secret, nothing encrypted: an empty value is stored as "", which reads
        # back as {} under any key. Rows made without credentials (every service's row,
        # made by migrate) then survive a change of SECRET_KEY.
        if not value:
            return ""
        return crypto.encrypt(json.dumps(value, sort_keys=True))

    def value_to_string(self, obj: models.Model) -> str:
        # Serialization (dumpdata) carries ciphertext only.
        return self.get_prep_value(self.value_from_object(obj))

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertext is randomized: only isnull could ever be meaningful.
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)
