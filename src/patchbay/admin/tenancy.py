"""Tenants in the admin: a tenant column and filter, and staff users scoped to one tenant.

:setting:`PATCHBAY_ADMIN_TENANT` is the hook: called with the request, the
tenant it returns is the only one whose rows the user sees, changes and adds.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from patchbay.conf import conf
from patchbay.tenancy import get_tenant_model, load_hook, tenancy_enabled, tenant_key

# Where the request keeps the scope it was given: the hook runs once per request.
_SCOPE_ATTRIBUTE = "_patchbay_admin_tenant_key"


def admin_tenant_key(request: HttpRequest) -> str | None:
    """The key of the tenant ``request``'s user is scoped to; None when unscoped."""
    if not tenancy_enabled():
        return None
    try:
        return getattr(request, _SCOPE_ATTRIBUTE)  # type: ignore[no-any-return]
    except AttributeError:
        pass
    hook = load_hook(conf.ADMIN_TENANT)
    tenant = hook(request) if hook is not None else None
    scope = tenant_key(tenant) if tenant is not None else None
    setattr(request, _SCOPE_ATTRIBUTE, scope)
    return scope


def tenant_choices() -> list[tuple[str, str]]:
    """``(key, name)`` of the tenants an unscoped user may choose from (the first 200)."""
    return [
        (str(tenant.pk), str(tenant)) for tenant in get_tenant_model()._default_manager.all()[:200]
    ]


class TenantFilter(admin.SimpleListFilter):
    title = _("tenant")
    parameter_name = "tenant_key"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", str(_("Site-wide"))), *tenant_choices()]

    def choices(self, changelist: Any) -> Any:
        # "" is a real choice (the site's rows), not "All": that is the absent parameter.
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset if value is None else queryset.filter(tenant_key=value)


class TenantScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin of a tenant-scoped model: tenant column and filter, scoped staff users.

    Nothing changes without :setting:`PATCHBAY_TENANT_MODEL`. With it, the
    changelist gains a *tenant* column and filter (the filter only for unscoped
    users), and a user :setting:`PATCHBAY_ADMIN_TENANT` scopes sees only that
    tenant's rows (other rows' pages answer 404) and saves rows as that tenant's.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        scope = admin_tenant_key(request)
        return queryset if scope is None else queryset.filter(tenant_key=scope)

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        if not tenancy_enabled() or admin_tenant_key(request) is not None:
            return shown
        return [*shown, "tenant_key"]

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if not tenancy_enabled() or admin_tenant_key(request) is not None:
            return filters
        return [*filters, TenantFilter]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        scope = admin_tenant_key(request)
        if scope is not None:
            obj.tenant_key = scope
        super().save_model(request, obj, form, change)


def tenant_webhook_paths(service: Model) -> list[str]:
    """The webhook paths of a tenant's ExternalService row (public URL prefixed, if set)."""
    from django.urls import NoReverseMatch, reverse

    from patchbay.core.registry import get_client_class

    client_class = get_client_class(service.provider)  # type: ignore[attr-defined]
    if client_class is None:
        return []
    paths = []
    for url_name in client_class.webhook_url_names:
        try:
            path = reverse(
                f"patchbay:{url_name}-tenant",
                kwargs={"endpoint": service.webhook_endpoint},  # type: ignore[attr-defined]
            )
        except NoReverseMatch:  # the provider's URLs are not mounted, or have no tenant route
            continue
        paths.append(conf.PUBLIC_URL + path)
    return paths
