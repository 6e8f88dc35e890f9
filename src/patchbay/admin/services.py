"""Admin for ExternalService (write-only credentials, health, actions) and HealthCheck."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge
from patchbay.admin.forms import (
    ExternalServiceForm,
    option_field_names,
    secret_field_names,
    service_form,
)
from patchbay.admin.oauth2 import connection_panel, is_oauth2_client
from patchbay.admin.tenancy import TenantScopedAdmin, admin_tenant_key, tenant_webhook_paths
from patchbay.core.registry import get_client_class
from patchbay.models import ExternalService, HealthCheck

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts
    from django.utils.functional import _StrOrPromise

    from patchbay.core.client import BaseClient

HEALTH_COLOURS: dict[str, str] = {
    ExternalService.HealthStatus.HEALTHY: GREEN,
    ExternalService.HealthStatus.DEGRADED: ORANGE,
    ExternalService.HealthStatus.DOWN: RED,
    ExternalService.HealthStatus.UNKNOWN: GREY,
}
CHECK_COLOURS: dict[str, str] = {
    HealthCheck.Status.SUCCESS: GREEN,
    HealthCheck.Status.FAILURE: RED,
    HealthCheck.Status.TIMEOUT: ORANGE,
}
HEALTH_FIELDS = (
    "health",
    "health_reason",
    "consecutive_failures",
    "total_requests",
    "failed_requests",
    "success_rate",
    "last_error",
    "last_success_at",
    "last_failure_at",
    "last_checked_at",
)

WRITE_ONLY = _("Write-only: stored values are encrypted and never shown.")
UNREADABLE = _(
    "The stored credentials cannot be decrypted with any configured key (patchbay.E024). "
    "Put the key they were encrypted with back (the old SECRET_KEY into "
    "SECRET_KEY_FALLBACKS, or the old key into PATCHBAY_ENCRYPTION_KEYS) and run "
    "manage.py patchbay_rotate_keys, or enter them again here: saving a new value "
    "replaces all of them, saving none keeps them as they are."
)
NO_CLIENT = _(
    "Options as JSON. A provider with an installed service client gets one field per "
    "setting and write-only credential fields instead."
)


def health_reason(service: ExternalService) -> str:
    """Why ``service`` has the health it has, in a sentence an operator can act on.

    Reads the row's counters and, when the admin's queryset annotated them,
    its latest probe's ``latest_check_at``, ``latest_check_status`` and
    ``latest_check_simulated``.
    """
    status = service.health_status
    if status in (ExternalService.HealthStatus.DEGRADED, ExternalService.HealthStatus.DOWN):
        failures = ngettext(
            "%(count)d failure in a row",
            "%(count)d failures in a row",
            service.consecutive_failures,
        ) % {"count": service.consecutive_failures}
        return f"{failures}: {service.last_error}" if service.last_error else failures
    if status != ExternalService.HealthStatus.HEALTHY:
        return gettext("No call or probe yet.")
    probed_at = getattr(service, "latest_check_at", None)
    probe_ok = getattr(service, "latest_check_status", None) == HealthCheck.Status.SUCCESS
    probe_simulated = bool(getattr(service, "latest_check_simulated", False))
    last_success = service.last_success_at
    if probed_at and probe_ok and not probe_simulated and (last_success or probed_at) <= probed_at:
        return gettext("Last probe succeeded at %(time)s.") % {"time": _when(probed_at)}
    if last_success is None:
        # Only simulated calls (or probes) succeeded: nothing has reached the provider.
        return gettext("Simulated: no live call yet.")
    return gettext("Last live call succeeded at %(time)s.") % {"time": _when(last_success)}


def _when(moment: Any) -> str:
    return str(formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT"))


@admin.register(ExternalService)
class ExternalServiceAdmin(TenantScopedAdmin):
    form = ExternalServiceForm
    # What an operator reads first; the counters behind the reason are on the row's page.
    list_display = [
        "provider",
        "name",
        "enabled",
        "health",
        "health_reason",
        "success_rate",
        "last_checked_at",
    ]
    list_display_links = ["provider", "name"]
    list_filter = ["enabled", "health_status"]
    search_fields = ["provider", "name"]
    actions = ["test_connection", "enable", "disable"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ExternalService | None = None
    ) -> tuple[str, ...]:
        # The provider names whose credentials the row holds: fixed once created.
        if obj is None:
            return HEALTH_FIELDS
        return ("provider", *HEALTH_FIELDS, "oauth2_connection", "webhook_urls")

    def get_fieldsets(
        self, request: HttpRequest, obj: ExternalService | None = None
    ) -> list[tuple[_StrOrPromise | None, _FieldOpts]]:
        client_class = self._client_class(request, obj)
        fieldsets: list[tuple[_StrOrPromise | None, _FieldOpts]] = [
            (None, {"fields": ["provider", "name", "enabled"]})
        ]
        if client_class is None:
            fieldsets.append((_("Options"), {"fields": ["options"], "description": NO_CLIENT}))
        else:
            if secrets := secret_field_names(client_class, stored=self._stored(obj)):
                unreadable = obj is not None and obj.credentials_unreadable
                description = UNREADABLE if unreadable else WRITE_ONLY
                fieldsets.append(
                    (_("Credentials"), {"fields": [*secrets], "description": description})
                )
            if options := option_field_names(client_class):
                fieldsets.append((_("Options"), {"fields": [*options]}))
        if obj is not None and is_oauth2_client(client_class):
            fieldsets.append((_("OAuth2 connection"), {"fields": ["oauth2_connection"]}))
        if obj is not None and obj.tenant_key and client_class and client_class.webhook_url_names:
            fieldsets.append((_("Webhooks"), {"fields": ["webhook_urls"]}))
        if obj is not None:
            fieldsets.append((_("Health"), {"fields": list(HEALTH_FIELDS)}))
        return fieldsets

    def get_form(
        self,
        request: HttpRequest,
        obj: ExternalService | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        client_class = self._client_class(request, obj)
        if client_class is not None:
            kwargs["form"] = service_form(
                client_class,
                stored=self._stored(obj),
                unreadable=obj is not None and obj.credentials_unreadable,
            )
        form: Any = super().get_form(request, obj, change, **kwargs)
        # A scoped user's new row is their tenant's, and checked as such for duplicates.
        form.scope_tenant_key = admin_tenant_key(request)
        return form

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExternalService]:
        # Credentials are read only where needed (see get_object): nothing in the list
        # needs them, and a row no key decrypts must not make the list, its actions or
        # its own page unusable.
        queryset: QuerySet[ExternalService] = super().get_queryset(request)
        # The latest probe of each row, for the health reason, in the list's one query.
        latest = HealthCheck.objects.filter(service=OuterRef("pk")).order_by("-checked_at", "-pk")
        return queryset.defer("credentials").annotate(
            latest_check_at=Subquery(latest.values("checked_at")[:1]),
            latest_check_status=Subquery(latest.values("status")[:1]),
            latest_check_simulated=Subquery(latest.values("simulated")[:1]),
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> ExternalService | None:
        obj: ExternalService | None = super().get_object(request, object_id, from_field)
        if obj is not None:
            from patchbay.core.services import load_credentials

            # The page opens without unreadable credentials, so that they can be entered
            # again (or left for the old key to come back).
            load_credentials(obj)
        return obj

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from patchbay.core.services import save_service

        scope = admin_tenant_key(request)
        if scope is not None:
            obj.tenant_key = scope

        save_service(obj)

    def _client_class(
        self, request: HttpRequest, obj: ExternalService | None
    ) -> type[BaseClient] | None:
        # Adding, the provider comes from the submitted form or ?provider= in the URL.
        provider = (
            obj.provider
            if obj is not None
            else request.POST.get("provider") or request.GET.get("provider", "")
        )
        return get_client_class(provider)

    def _stored(self, obj: ExternalService | None) -> list[str]:
        return obj.credential_names() if obj is not None else []

    # -- columns ----------------------------------------------------------------------

    @admin.display(description=_("health"), ordering="health_status")
    def health(self, obj: ExternalService) -> SafeString:
        return badge(obj.get_health_status_display(), HEALTH_COLOURS.get(obj.health_status, GREY))

    @admin.display(description=_("why"))
    def health_reason(self, obj: ExternalService) -> str:
        return health_reason(obj)

    @admin.display(description=_("connection"))
    def oauth2_connection(self, obj: ExternalService) -> SafeString | str:
        client_class = get_client_class(obj.provider)
        if client_class is None or not is_oauth2_client(client_class):
            return "—"
        return connection_panel(obj, client_class)

    @admin.display(description=_("webhook URLs"))
    def webhook_urls(self, obj: ExternalService) -> SafeString | str:
        """The tenant's own webhook URLs, to register at the provider (see :doc:`/tenants`)."""
        paths = tenant_webhook_paths(obj)
        if not paths:
            return "—"
        return format_html_join(format_html("<br>"), "<code>{}</code>", ((path,) for path in paths))

    @admin.display(description=_("success rate"))
    def success_rate(self, obj: ExternalService) -> str:
        rate = obj.success_rate
        return "—" if rate is None else f"{rate:g} %"

    # -- actions ----------------------------------------------------------------------

    @admin.action(description=_("Test connection"), permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[ExternalService]) -> None:
        # Imported here: the admin module is imported at every start, the client
        # machinery only when a service is tested.
        from patchbay.core.services import probe_service

        for service in queryset:
            check = probe_service(service, user=request.user)
            if check is None:
                self.message_user(
                    request,
                    gettext("%(service)s: no client is installed for provider %(provider)r.")
                    % {"service": service, "provider": service.provider},
                    messages.WARNING,
                )
                continue
            self._report_check(request, service, check)

    def _report_check(
        self, request: HttpRequest, service: ExternalService, check: HealthCheck
    ) -> None:
        details = {
            "service": service,
            "ms": check.response_time_ms,
            "mode": gettext("simulated") if check.simulated else gettext("live"),
            "error": check.error,
        }
        if check.status == HealthCheck.Status.SUCCESS:
            message = gettext("%(service)s: connection OK in %(ms)s ms (%(mode)s).") % details
            self.message_user(request, message, messages.SUCCESS)
        else:
            message = gettext("%(service)s: connection failed (%(mode)s): %(error)s") % details
            self.message_user(request, message, messages.ERROR)

    @admin.action(description=_("Enable selected services"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[ExternalService]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description=_("Disable selected services"), permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[ExternalService]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    def _set_enabled(
        self, request: HttpRequest, queryset: QuerySet[ExternalService], *, enabled: bool
    ) -> None:
        # Imported here, as the client machinery is: not at every start.
        from patchbay.core.services import set_enabled

        changing = set_enabled(queryset, enabled=enabled)
        label = str(ExternalService._meta.get_field("enabled").verbose_name).capitalize()
        for service in changing:
            self.log_change(request, service, [{"changed": {"fields": [label]}}])
        template = (
            ngettext("%(count)d service enabled.", "%(count)d services enabled.", len(changing))
            if enabled
            else ngettext(
                "%(count)d service disabled.", "%(count)d services disabled.", len(changing)
            )
        )
        self.message_user(request, template % {"count": len(changing)}, messages.SUCCESS)


@admin.register(HealthCheck)
class HealthCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "service", "outcome", "response_time_ms", "simulated", "error"]
    # By provider rather than by service row: listing the rows would decrypt their credentials.
    list_filter = ["status", "simulated", "service__provider"]
    list_select_related = ["service"]
    date_hierarchy = "checked_at"
    fields = ["service", "status", "response_time_ms", "simulated", "error", "checked_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[HealthCheck]:
        return super().get_queryset(request).select_related("service").defer("service__credentials")

    @admin.display(description=_("status"), ordering="status")
    def outcome(self, obj: HealthCheck) -> SafeString:
        return badge(obj.get_status_display(), CHECK_COLOURS.get(obj.status, GREY))
