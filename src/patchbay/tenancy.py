"""Which tenant patchbay works for: the current tenant, and how it is named and found.

Opt-in with ``PATCHBAY_TENANT_MODEL``. A tenant is stored as its *key*,
``str(tenant.pk)``, in the ``tenant_key`` column of every patchbay model
(``""`` is the site-wide configuration, and every row of a single-tenant
project): a reusable app cannot ship a foreign key to a model named by an
optional setting. The current tenant lives in a context variable, so it
follows a request's thread or task and never leaks into another's.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Literal, ParamSpec, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.apps import apps
from django.utils.module_loading import import_string

from patchbay.conf import conf

if TYPE_CHECKING:
    from django.db import models
    from django.http import HttpRequest, HttpResponse


class _Site(enum.Enum):
    SITE = "site"

    def __repr__(self) -> str:
        return "patchbay.tenancy.SITE"


class _Unset(enum.Enum):
    UNSET = "unset"

    def __repr__(self) -> str:
        return "patchbay.tenancy.UNSET"


#: "Explicitly the site-wide configuration": never ``tenant_required``.
SITE: Final = _Site.SITE
#: The default of every ``tenant=`` argument: nobody said, the context decides.
UNSET: Final = _Unset.UNSET
SiteType = Literal[_Site.SITE]
UnsetType = Literal[_Unset.UNSET]

# The key, not the instance: a key is what rows store and what crosses into tasks.
_current: ContextVar[str | None] = ContextVar("patchbay_tenant", default=None)


def tenancy_enabled() -> bool:
    """Whether the project has tenants (``PATCHBAY_TENANT_MODEL`` is set)."""
    return conf.TENANT_MODEL is not None


def get_tenant_model() -> type[models.Model]:
    """The model ``PATCHBAY_TENANT_MODEL`` names (LookupError when unset or not installed)."""
    name = conf.TENANT_MODEL
    if name is None:
        raise LookupError("PATCHBAY_TENANT_MODEL is not set.")
    return apps.get_model(name, require_ready=False)


def tenant_key(tenant: object) -> str:
    """The key a tenant is stored as: ``""`` for None or SITE, ``str(pk)`` for a tenant.

    A string is taken as a key already. A model instance must be a saved
    instance of ``PATCHBAY_TENANT_MODEL``: another model's primary key would
    silently name an unrelated tenant, so it raises :exc:`TypeError`.
    """
    if tenant is None or tenant is SITE:
        return ""
    if isinstance(tenant, str):
        return tenant
    if isinstance(tenant, int) and not isinstance(tenant, bool):
        return str(tenant)
    meta = getattr(tenant, "_meta", None)
    if meta is None:
        raise TypeError(
            f"A tenant is a model instance, a key or SITE, not {type(tenant).__name__}."
        )
    model = get_tenant_model() if tenancy_enabled() else None
    if model is None or not isinstance(tenant, model):
        raise TypeError(
            f"{meta.label} is not the tenant model "
            f"(PATCHBAY_TENANT_MODEL is {conf.TENANT_MODEL!r})."
        )
    pk = getattr(tenant, "pk", None)
    if pk is None:
        raise TypeError("An unsaved tenant has no key: save it first.")
    return str(pk)


def current_tenant_key() -> str:
    """The current tenant's key, ``""`` when none is set (also every ``tenant_key`` default)."""
    return _current.get() or ""


def current_tenant() -> models.Model | None:
    """The current tenant's instance, None when none is set (one query)."""
    return tenant_for_key(current_tenant_key())


@contextmanager
def use_tenant(tenant: object) -> Iterator[None]:
    """Work for ``tenant`` (an instance, a key, SITE or None) inside the block.

    Calls without a ``tenant=`` argument and rows created inside use it. SITE
    (or None) makes the site-wide configuration current explicitly; UNSET
    (a ``tenant=`` argument nobody passed) leaves the current one as it is.
    """
    if tenant is UNSET:
        yield
        return
    token = _current.set(tenant_key(tenant))
    try:
        yield
    finally:
        _current.reset(token)


def tenant_for_key(key: str) -> models.Model | None:
    """The tenant of ``key``: None for ``""``, without a tenant model, or when it is gone."""
    if not key or not tenancy_enabled():
        return None
    model = get_tenant_model()
    try:
        return model._default_manager.filter(pk=key).first()
    except (ValueError, TypeError):  # a key that is no valid pk of the model
        return None


def resolve_tenant_key(tenant: object = UNSET) -> tuple[str, bool]:
    """The tenant key a call works for, and whether anybody said which.

    The explicit argument (SITE included) wins, then the context set by
    :func:`use_tenant` (or the middleware), then ``""`` with ``False``: with a
    tenant model and ``PATCHBAY_TENANT_REQUIRED``, such a call fails with
    ``tenant_required`` rather than using the site-wide keys for a tenant.
    """
    if tenant is not UNSET:
        return tenant_key(tenant), True
    current = _current.get()
    if current is not None:
        return current, True
    return "", False


#: The length of the ``tenant_key`` column.
MAX_KEY_LENGTH = 64

P = ParamSpec("P")
R = TypeVar("R")


def tenant_argument_error(tenant: object) -> str | None:
    """Why ``tenant`` is no ``tenant=`` argument; None when it is one (UNSET included)."""
    if tenant is UNSET:
        return None
    try:
        key = tenant_key(tenant)
    except TypeError as exc:
        return f"tenant: {exc}"
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return f"tenant: a key is at most {MAX_KEY_LENGTH} printable characters."
    return None


def tenant_scoped(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` for its ``tenant=`` argument, the shortcuts' decorator.

    The body runs inside :func:`use_tenant` (so the clients it makes and the
    rows it writes are the tenant's; without the argument, the current
    tenant's), and a ``tenant`` that names no tenant is refused with an
    ``invalid_request`` result, never an exception at the caller.
    """

    @functools.wraps(function)
    def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
        tenant = kwargs.get("tenant", UNSET)
        problem = tenant_argument_error(tenant)
        if problem is not None:
            from patchbay.results import failure

            return cast("R", failure(problem, error_code="invalid_request"))
        with use_tenant(tenant):
            return function(*args, **kwargs)

    return scoped


def tenant_missing(said: bool) -> bool:
    """Whether a call for which nobody named a tenant must be refused (``tenant_required``)."""
    return not said and tenancy_enabled() and conf.TENANT_REQUIRED


def load_hook(value: Any) -> Callable[..., Any] | None:
    """The callable a hook setting names (a callable or its dotted path); None when unset."""
    if value is None:
        return None
    hook = import_string(value) if isinstance(value, str) else value
    if not callable(hook):
        raise TypeError(f"{value!r} is not callable.")
    return hook  # type: ignore[no-any-return]


def webhook_path(url_name: str, tenant: object) -> str:
    """The path of webhook view ``url_name`` for ``tenant``: its own endpoint, or the site's.

    ``url_name`` is the site-wide name in the ``patchbay`` namespace (e.g.
    ``"stripe-webhook"``); a tenant's route is named ``"<url_name>-tenant"``
    and takes the ``webhook_endpoint`` of the tenant's ExternalService row for
    the provider whose webhooks the view receives. Raises
    :class:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) when
    ``patchbay.urls`` is not mounted, as :func:`~patchbay.core.urls.patchbay_path`.
    """
    from patchbay.core.registry import declarations
    from patchbay.core.urls import patchbay_path
    from patchbay.models import ExternalService

    key = tenant_key(tenant)
    if not key:
        return patchbay_path(f"patchbay:{url_name}")
    providers = [s.provider for s in declarations() if url_name in s.webhook_url_names]
    if not providers:
        raise LookupError(f"No registered client receives webhooks at {url_name!r}.")
    # The row holds the endpoint: a tenant that configured nothing yet gets an empty one
    # (its provider must know the URL before any credentials are entered).
    service, _ = ExternalService.objects.get_or_create(tenant_key=key, provider=providers[0])
    return patchbay_path(
        f"patchbay:{url_name}-tenant", kwargs={"endpoint": service.webhook_endpoint}
    )


class TenantMiddleware:
    """Make the tenant ``PATCHBAY_TENANT_RESOLVER(request)`` returns current for the view.

    Sets ``request.patchbay_tenant`` (None when the resolver finds none: the
    view then runs with no tenant current, and calls that need one fail with
    ``tenant_required``). Works in sync and async stacks.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _resolve(self, request: HttpRequest) -> object:
        resolver = load_hook(conf.TENANT_RESOLVER)
        tenant = resolver(request) if resolver is not None else None
        request.patchbay_tenant = tenant  # type: ignore[attr-defined]
        return tenant

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        tenant = self._resolve(request)
        if tenant is None:
            return self.get_response(request)
        with use_tenant(tenant):
            response: HttpResponse = self.get_response(request)
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        from asgiref.sync import sync_to_async

        # A resolver reads the database (the user's organization): not on the event loop.
        tenant = await sync_to_async(self._resolve)(request)
        if tenant is None:
            return await self.get_response(request)
        with use_tenant(tenant):
            return await self.get_response(request)
