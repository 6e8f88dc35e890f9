"""The example's tenants: organizations, each connecting its own providers."""

from __future__ import annotations

from django.db import models


class Organization(models.Model):
    """A customer of the demo SaaS (``PATCHBAY_TENANT_MODEL``)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
