"""Pieces shared by patchbay's admins: read-only history admins and display helpers."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

# Foreground colours with enough contrast on the admin's light and dark themes.
GREEN = "#2e7d32"
ORANGE = "#e65100"
RED = "#c62828"
GREY = "#757575"


# ModelAdmin and ModelForm are generic only in django-stubs, not at runtime.
class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An admin for rows patchbay writes itself: viewable, never added or edited.

    Superusers may delete rows (the prune command is the usual way).
    """

    # Counting a large log table twice per page is the slowest part of the changelist.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)


def badge(text: Any, colour: str) -> SafeString:
    """``text`` as a small coloured label, for statuses in changelists."""
    return format_html(
        '<span style="color: #fff; background: {}; padding: 1px 6px; border-radius: 8px; '
        'white-space: nowrap;">{}</span>',
        colour,
        text,
    )


def pretty_json(value: Any) -> SafeString:
    """``value`` as indented JSON in a ``<pre>``, escaped."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre style="margin: 0; white-space: pre-wrap;">{}</pre>', text)
