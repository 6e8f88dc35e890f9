from __future__ import annotations

from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="organizations"
    )

    class Meta:
        app_label = "tenant_app"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
