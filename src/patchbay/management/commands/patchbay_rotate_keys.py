"""``manage.py patchbay_rotate_keys``: re-encrypt stored secrets under the newest key.

Run it after prepending a key to ``PATCHBAY_ENCRYPTION_KEYS`` (or rotating
``SECRET_KEY`` into ``SECRET_KEY_FALLBACKS``); once it succeeds the old key
can be removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router
from django.db.models import Model, QuerySet, TextField, Value
from django.db.models.functions import Cast

from patchbay import crypto
from patchbay.exceptions import ConfigurationError, DecryptionError
from patchbay.fields import EncryptedJSONField

# Rows read per query, so a large table is never loaded at once.
CHUNK_SIZE = 1000


@dataclass
class Rotation:
    """What happened to one encrypted column."""

    label: str
    rotated: int = 0
    current: int = 0
    unreadable: list[Any] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Re-encrypt every EncryptedJSONField value under the newest key in "
        "PATCHBAY_ENCRYPTION_KEYS. Fails, leaving them untouched, on values no key decrypts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the values that need rotating."
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        try:
            crypto.get_fernet()
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        rotations = [
            rotate_field(model, column, dry_run=dry_run) for model, column in encrypted_fields()
        ]
        verb = "would be rotated" if dry_run else "rotated"
        for rotation in rotations:
            self.stdout.write(
                f"{rotation.label}: {rotation.rotated} {verb}, {rotation.current} already current."
            )
            for pk in rotation.unreadable:
                self.stderr.write(
                    f"{rotation.label} pk={pk}: no configured key decrypts it; left unchanged."
                )
        unreadable = sum(len(rotation.unreadable) for rotation in rotations)
        self.stdout.write(f"{sum(rotation.rotated for rotation in rotations)} values {verb}.")
        if unreadable:
            raise CommandError(
                f"{unreadable} values could not be decrypted with any configured key. Add the key "
                "that encrypted them to PATCHBAY_ENCRYPTION_KEYS (after the new one) and run "
                "this command again before removing any key."
            )


def encrypted_fields() -> Iterator[tuple[type[Model], EncryptedJSONField]]:
    """Every encrypted column of every installed model, once."""
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        # Local fields only: a multi-table child's inherited columns live in the parent's table.
        for column in model._meta.local_concrete_fields:
            if isinstance(column, EncryptedJSONField):
                yield model, column


def rotate_field(model: type[Model], column: EncryptedJSONField, *, dry_run: bool) -> Rotation:
    rotation = Rotation(label=f"{model._meta.label}.{column.name}")
    newest_only = Fernet(crypto.configured_keys()[0])
    rows = model._base_manager.using(router.db_for_write(model))
    last_pk: Any = None
    while True:
        # Cast to a plain TextField reads the token itself: the field would decrypt it.
        batch = rows.annotate(token=Cast(column.attname, output_field=TextField())).order_by("pk")
        if last_pk is not None:
            batch = batch.filter(pk__gt=last_pk)
        chunk = list(batch.values_list("pk", "token")[:CHUNK_SIZE])
        if not chunk:
            return rotation
        last_pk = chunk[-1][0]
        for pk, token in chunk:
            if not token:
                continue
            if _decrypts(newest_only, token):
                rotation.current += 1
                continue
            try:
                rotated = crypto.rotate(token)
            except DecryptionError:
                rotation.unreadable.append(pk)
                continue
            if dry_run or _replace_token(rows, column, pk, token, rotated):
                rotation.rotated += 1


def _replace_token(
    rows: QuerySet[Any], column: EncryptedJSONField, pk: Any, old: str, new: str
) -> bool:
    """Write ``new`` raw (the field would encrypt it again) if the row still holds ``old``.

    A row saved since it was read already holds a token under the newest key.
    """
    token = Cast(column.attname, output_field=TextField())
    updated = (
        rows.alias(token=token)
        .filter(pk=pk, token=old)
        .update(**{column.attname: Value(new, output_field=TextField())})
    )
    return bool(updated)


def _decrypts(fernet: Fernet, token: str) -> bool:
    try:
        fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True
