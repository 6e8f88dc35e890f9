"""The tenant column every patchbay model carries (see :mod:`patchbay.tenancy`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.tenancy import (
    UNSET,
    current_tenant_key,
    tenancy_enabled,
    tenant_for_key,
    tenant_key,
)

ModelT = TypeVar("ModelT", bound=models.Model)


class TenantQuerySet(models.QuerySet[ModelT]):
    def for_tenant(self, tenant: object = UNSET) -> TenantQuerySet[ModelT]:
        """The rows of ``tenant`` (an instance, a key, or SITE/None for the site-wide rows).

        Without ``tenant``, the current tenant's; without a tenant model that
        filters nothing (every row is the site's), so single-tenant queries
        stay as they were.
        """
        if tenant is UNSET:
            if not tenancy_enabled():
                return self
            return self.filter(tenant_key=current_tenant_key())
        return self.filter(tenant_key=tenant_key(tenant))


class TenantManager(models.Manager[ModelT]):
    """The default manager of tenant-scoped models; custom managers extend it."""

    def get_queryset(self) -> TenantQuerySet[ModelT]:
        return TenantQuerySet(self.model, using=self._db)

    def for_tenant(self, tenant: object = UNSET) -> TenantQuerySet[ModelT]:
        return self.get_queryset().for_tenant(tenant)


def tenant_key_field(*, db_index: bool = True) -> models.CharField[str, str]:
    """The ``tenant_key`` column; ``db_index=False`` for a model whose other indexes serve it.

    Every index is written on each ``INSERT``: a table written per call or per
    delivery keeps only those some query reads.
    """
    return models.CharField(
        _("tenant"), max_length=64, blank=True, default=current_tenant_key, db_index=db_index
    )


class TenantScoped(models.Model):
    """Abstract: a ``tenant_key`` column, defaulting to the current tenant, and ``tenant``.

    ``Model.objects.create(tenant=org)`` stores ``org``'s key (``tenant`` is a
    settable property); rows made inside :func:`~patchbay.tenancy.use_tenant`
    get the current tenant's key without being told.
    """

    tenant_key = tenant_key_field()

    objects = TenantManager()

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        tenant: Any
    else:

        @property
        def tenant(self) -> models.Model | None:
            """The tenant instance (a query); None for site-wide rows."""
            return tenant_for_key(self.tenant_key)

        @tenant.setter
        def tenant(self, value: object) -> None:
            self.tenant_key = tenant_key(value)
