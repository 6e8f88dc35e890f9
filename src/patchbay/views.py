"""patchbay's own views (service endpoints live in each service's package).

Also :class:`LazyView`, with which patchbay's URLconfs name their views by
dotted path, so that loading the URLconf (which ``manage.py check`` does)
imports no view module.
"""

from __future__ import annotations

import hmac
import threading
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.module_loading import import_string
from django.views import View
from django.views.decorators.http import require_GET

from patchbay.conf import conf


@require_GET
@staff_member_required
def status(request: HttpRequest) -> JsonResponse:
    """Every service's mode, configuration sources, health and breaker state (staff only).

    ``?tenant=KEY`` shows a tenant's services (with a tenant model; 404 for an unknown key).
    """
    # Imported here: the URLconf imports this module, and loading it must stay cheap.
    from patchbay.status import status_report
    from patchbay.tenancy import tenancy_enabled, tenant_for_key

    tenant = request.GET.get("tenant", "")
    if tenant and (not tenancy_enabled() or tenant_for_key(tenant) is None):
        return JsonResponse({"error": "Unknown tenant."}, status=404)
    return JsonResponse({"services": status_report(tenant)})


#: What the health dashboard needs besides staff status (a superuser has every one).
DASHBOARD_PERMISSIONS = ("patchbay.view_externalservice", "patchbay.view_integrationlog")


def can_view_dashboard(user: Any) -> bool:
    """Whether ``user`` may open the health dashboard: active staff with both view permissions."""
    return bool(user and user.is_active and user.is_staff and user.has_perms(DASHBOARD_PERMISSIONS))


@require_GET
@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The health dashboard: each service's health, latency, failures and webhook backlog.

    For staff with the view permissions of external services and integration
    logs; other staff get 403, anyone else the admin's login page.
    """
    from django.contrib import admin
    from django.core.exceptions import PermissionDenied
    from django.template.response import TemplateResponse

    from patchbay.charts import calls_chart
    from patchbay.dashboard import overview

    if not can_view_dashboard(request.user):
        raise PermissionDenied("The dashboard needs the view permissions of services and logs.")
    tenant_key, tenants = _dashboard_tenant(request)
    services = overview(tenant_key=tenant_key)
    context = {
        **admin.site.each_context(request),
        "title": "Integration health",
        "tenant_key": tenant_key,
        "tenants": tenants,
        "services": [
            (service, calls_chart(service.provider, service.hours)) for service in services
        ],
    }
    return TemplateResponse(request, "patchbay/dashboard.html", context)


def _dashboard_tenant(request: HttpRequest) -> tuple[str, list[tuple[str, str]]]:
    """Whose services the dashboard shows, and the tenants the user may choose from.

    A user :setting:`PATCHBAY_ADMIN_TENANT` scopes sees their tenant's and no
    choice; others the site's, or the tenant ``?tenant=`` names.
    """
    from patchbay.admin.tenancy import admin_tenant_key, tenant_choices
    from patchbay.tenancy import tenancy_enabled

    if not tenancy_enabled():
        return "", []
    scope = admin_tenant_key(request)
    if scope is not None:
        return scope, []
    tenants = tenant_choices()
    chosen = request.GET.get("tenant", "")
    return (chosen if chosen in dict(tenants) else ""), tenants


@require_GET
@login_not_required  # a scraper has no session: it sends PATCHBAY_METRICS_TOKEN
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a staff session or ``Authorization: Bearer <token>``.

    404 while :setting:`PATCHBAY_METRICS` is off or prometheus-client is not
    installed; 401 without a staff session or the right token.
    """
    from patchbay import metrics as patchbay_metrics

    if not patchbay_metrics.enabled():
        return JsonResponse({"error": "Metrics are off (PATCHBAY_METRICS)."}, status=404)
    user = getattr(request, "user", None)
    staff = bool(user and user.is_active and user.is_staff)
    if not (staff or _bearer_token_matches(request)):
        response = JsonResponse({"error": "A staff session or the metrics token is needed."})
        response.status_code = 401
        response["WWW-Authenticate"] = 'Bearer realm="patchbay metrics"'
        return response
    body, content_type = patchbay_metrics.exposition(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)


def _bearer_token_matches(request: HttpRequest) -> bool:
    expected = conf.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


class LazyView:
    """The view at ``dotted_path``, imported when it is first needed.

    A class-based view is given by its class and served through ``as_view()``.
    Only its name (module and qualified name) is known without importing it;
    any other attribute is the real view's (``csrf_exempt``, ``view_class``...),
    so middleware and Django's own introspection see the real view. A request
    to the URL imports it, and so does the first ``reverse()`` of a process,
    which indexes every view of the URLconf: both after start-up.
    """

    def __init__(self, dotted_path: str) -> None:
        module, _, name = dotted_path.rpartition(".")
        if not module or not name:
            raise ValueError(f"{dotted_path!r} is not a dotted path to a view.")
        self.__module__ = module
        self.__name__ = self.__qualname__ = name
        self._view: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<LazyView {self.__module__}.{self.__name__}>"

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response: HttpResponseBase = self.view(request, *args, **kwargs)
        return response

    @property
    def view(self) -> Any:
        """The real view function, imported on first use."""
        if self._view is None:
            # Two threads of a worker may serve their first requests at once.
            with self._lock:
                if self._view is None:
                    target = import_string(f"{self.__module__}.{self.__name__}")
                    is_class = isinstance(target, type) and issubclass(target, View)
                    self._view = target.as_view() if is_class else target
        return self._view

    def __getattr__(self, name: str) -> Any:
        # Called only for attributes this object lacks. Dunders are left alone, so
        # that copying or introspecting the wrapper imports nothing; so are its own,
        # which a copy made without __init__ lacks, and ``view``, whose own
        # AttributeError would otherwise come back here.
        if name in {"view", "_view", "_lock"} or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(self.view, name)
