"""``manage.py patchbay_api_token <username>``: issue a management API token.

The token is printed once and never stored (only its SHA-256 is): keep it in
your secrets store. Requests made with it act as the user, whose staff status
and permissions apply. Revoke it by deleting it in the admin (API tokens) or
with ``--revoke``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from patchbay.models import APIToken


class Command(BaseCommand):
    help = "Issue a management API token for a staff user and print it (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The staff user the token acts as.")
        parser.add_argument(
            "--name", default="", help="What the token is for (shown in the admin)."
        )
        parser.add_argument(
            "--revoke", action="store_true", help="Delete the user's tokens instead."
        )

    def handle(self, *args: Any, username: str, name: str, revoke: bool, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        if revoke:
            deleted, _ = APIToken.objects.filter(user=user).delete()
            self.stdout.write(f"Revoked {deleted} token(s) of {username}.")
            return
        if not user.is_staff or not user.is_active:
            raise CommandError(f"{username} is not active staff: the API would refuse the token.")
        _row, token = APIToken.objects.issue(user, name[:100])
        self.stdout.write(token)
