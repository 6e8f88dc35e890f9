"""The health dashboard's entry in the admin index, in patchbay's app list.

A proxy model with no table of its own: registering it puts a link on the
index of the default admin site without the project overriding a template.
Its change list sends the user on to the dashboard.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from patchbay.models import Dashboard
from patchbay.views import can_view_dashboard, dashboard


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_dashboard(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, str] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            url = reverse("patchbay:dashboard")
        except NoReverseMatch:
            # patchbay.urls not mounted: the admin's own URL serves the page.
            response: HttpResponse = dashboard(request)
            return response
        return HttpResponseRedirect(url)
