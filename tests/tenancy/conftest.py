"""Two tenants of ``tenant_app.Organization``, with tenancy switched on."""

from __future__ import annotations

import pytest

from tests.tenant_app.models import Organization


@pytest.fixture
def tenancy(settings):
    settings.PATCHBAY_TENANT_MODEL = "tenant_app.Organization"
    return settings


@pytest.fixture
def acme(db, tenancy):
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def globex(db, tenancy):
    return Organization.objects.create(name="Globex", slug="globex")
