from __future__ import annotations

from django.apps import AppConfig


class TenantAppConfig(AppConfig):
    name = "tests.tenant_app"
    label = "tenant_app"
    default_auto_field = "django.db.models.BigAutoField"
