"""The tenant settings' system checks (patchbay.E070-E073, W070-W072)."""

from __future__ import annotations

from patchbay import checks

TENANT_MIDDLEWARE = "patchbay.tenancy.TenantMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def ids(messages):
    return [message.id for message in messages]


def not_callable():
    pass


NOT_CALLABLE = 42


def test_a_valid_setup_passes(settings):
    settings.PATCHBAY_TENANT_MODEL = "tenant_app.Organization"
    settings.PATCHBAY_TENANT_RESOLVER = "tests.tenancy.test_core_checks.not_callable"
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, TENANT_MIDDLEWARE]
    assert checks.check_tenancy() == []
    assert ids(checks.check_settings_types()) == []


def test_e070_a_model_name_of_the_wrong_form(settings):
    settings.PATCHBAY_TENANT_MODEL = "tests.tenant_app.models.Organization"
    assert ids(checks.check_settings_types()) == ["patchbay.E070"]
    assert checks.check_tenancy() == []  # reported once


def test_e071_a_hook_that_is_neither_callable_nor_a_path(settings):
    settings.PATCHBAY_TENANT_MODEL = "tenant_app.Organization"
    settings.PATCHBAY_ADMIN_TENANT = 42
    assert ids(checks.check_settings_types()) == ["patchbay.E071"]


def test_e072_a_model_that_is_not_installed(settings):
    settings.PATCHBAY_TENANT_MODEL = "accounts.Organization"
    assert ids(checks.check_tenancy()) == ["patchbay.E072"]


def test_e073_a_hook_that_cannot_be_imported_or_called(settings):
    settings.PATCHBAY_TENANT_MODEL = "tenant_app.Organization"
    settings.PATCHBAY_ADMIN_TENANT = "tests.tenancy.nowhere.for_admin"
    assert ids(checks.check_tenancy()) == ["patchbay.E073"]
    settings.PATCHBAY_ADMIN_TENANT = "tests.tenancy.test_core_checks.NOT_CALLABLE"
    [message] = checks.check_tenancy()
    assert (message.id, "is not callable" in message.msg) == ("patchbay.E073", True)


def test_w070_a_resolver_without_the_middleware(settings):
    settings.PATCHBAY_TENANT_MODEL = "tenant_app.Organization"
    settings.PATCHBAY_TENANT_RESOLVER = "tests.tenancy.test_core_checks.not_callable"
    assert ids(checks.check_tenancy()) == ["patchbay.W070"]


def test_w071_the_middleware_before_authentication(settings):
    settings.PATCHBAY_TENANT_MODEL = "tenant_app.Organization"
    settings.MIDDLEWARE = [TENANT_MIDDLEWARE, *settings.MIDDLEWARE]
    assert ids(checks.check_tenancy()) == ["patchbay.W071"]


def test_w072_tenant_settings_without_a_tenant_model(settings):
    settings.PATCHBAY_TENANT_REQUIRED = False
    assert ids(checks.check_tenancy()) == ["patchbay.W072"]
    settings.PATCHBAY_TENANT_MODEL = "tenant_app.Organization"
    assert checks.check_tenancy() == []
