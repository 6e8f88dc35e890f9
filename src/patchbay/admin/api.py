"""API tokens: listed without their value (never stored), revoked by deleting them."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from patchbay.admin.base import ReadOnlyAdmin
from patchbay.models import APIToken


@admin.register(APIToken)
class APITokenAdmin(ReadOnlyAdmin):
    """Tokens are issued by ``manage.py patchbay_api_token``, which shows each once."""

    list_display = ["__str__", "user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    fields = ["name", "user", "hint", "created_at", "last_used_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Revoking is what the table is managed for: whoever may delete tokens may revoke.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)
