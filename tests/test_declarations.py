"""Service declarations: what the checks and the admin read, and the clients take theirs from."""

from __future__ import annotations

from importlib import import_module

import pytest

from patchbay import checks
from patchbay.core import registry
from patchbay.core.auth import OAuth2Auth
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.core.declaration import DECLARED_NAMES, ServiceDeclaration

BUILTIN_PROVIDERS = ["aws", "loops", "stripe", "twilio"]


@pytest.fixture
def forget():
    """Providers registered by a test, forgotten by the registry afterwards."""
    providers: list[str] = []
    yield providers
    for provider in providers:
        registry._clients.pop(provider, None)


@pytest.mark.parametrize("builtin", registry.BUILTIN_SERVICES, ids=BUILTIN_PROVIDERS)
def test_a_built_in_client_takes_everything_from_its_declaration(builtin):
    declaration = import_module(builtin.service_module).SERVICE
    client_class = registry.get_client_class(declaration.provider)

    assert client_class is not None
    assert client_class.__module__ == builtin.client_module
    assert client_class.declaration is declaration
    for name in DECLARED_NAMES:
        assert getattr(client_class, name) == getattr(declaration, name), name
    assert client_class.label() == declaration.label()
    assert client_class.missing_sdk() == declaration.missing_sdk()


def test_declarations_and_client_classes_list_the_same_services():
    assert [service.provider for service in registry.declarations()] == [
        client_class.provider for client_class in registry.client_classes()
    ]
    assert sorted(registry._builtins()) == BUILTIN_PROVIDERS


def test_a_registered_class_is_its_own_declaration(forget):
    client_class = type(
        "Acme",
        (BaseClient,),
        {
            "provider": "acme_declared",
            "config_fields": {"api_key": ConfigField(setting="ACME_DECLARED_API_KEY")},
            "enabled_setting": "ACME_DECLARED_ENABLED",
        },
    )
    forget.append("acme_declared")

    assert client_class in registry.declarations()
    assert registry.get_declaration("acme_declared") is client_class


def test_the_checks_see_a_registered_class(forget, settings):
    settings.PATCHBAY_SIMULATE = False
    settings.ACME_CHECKED_ENABLED = True
    type(
        "Acme",
        (BaseClient,),
        {
            "provider": "acme_checked",
            "display_name": "Acme",
            "config_fields": {"api_key": ConfigField(setting="ACME_CHECKED_API_KEY")},
            "enabled_setting": "ACME_CHECKED_ENABLED",
        },
    )
    forget.append("acme_checked")

    assert [
        message.msg for message in checks.check_services() if message.id == "patchbay.E002"
    ] == ["ACME_CHECKED_ENABLED is on but Acme has no ACME_CHECKED_API_KEY."]


def test_a_class_of_your_own_may_take_a_declaration(forget):
    declaration = ServiceDeclaration(
        provider="acme_own",
        display_name="Acme",
        config_fields={"region": ConfigField(setting="ACME_OWN_REGION", required=False)},
        authentication=OAuth2Auth(
            authorize_url="https://id.example/authorize", token_url="https://id.example/token"
        ),
    )
    client_class = type("Acme", (BaseClient,), {"declaration": declaration})
    forget.append("acme_own")

    # The authentication's values are added, named after the provider, as on a class.
    assert "oauth2_client_id" in declaration.config_fields
    assert declaration.config_fields["oauth2_client_id"].setting == "ACME_OWN_OAUTH2_CLIENT_ID"
    assert client_class.config_fields == declaration.config_fields
    assert registry.get_client_class("acme_own") is client_class
    assert registry.get_declaration("acme_own") is client_class

    # A subclass for another provider has them made again, under its own name.
    other = type("Other", (client_class,), {"provider": "acme_other"})
    forget.append("acme_other")
    assert other.config_fields["oauth2_client_id"].setting == "ACME_OTHER_OAUTH2_CLIENT_ID"
    assert other.config_fields["region"].setting == "ACME_OWN_REGION"


def test_a_class_declares_its_service_one_way_only():
    declaration = ServiceDeclaration(provider="acme_twice")

    with pytest.raises(TypeError, match="sets declaration and provider"):
        type("Acme", (BaseClient,), {"declaration": declaration, "provider": "acme_twice"})
    assert registry.get_declaration("acme_twice") is None


def test_a_declared_setting_takes_its_default_and_help_from_patchbay_conf():
    declaration = import_module("patchbay.stripe.service").SERVICE

    api_version = declaration.config_fields["api_version"]
    assert api_version.help_text  # from patchbay.conf's STRIPE_API_VERSION
    with pytest.raises(TypeError, match=r"declared in patchbay\.conf"):
        ServiceDeclaration(
            provider="acme_conf",
            config_fields={"key": ConfigField(setting="STRIPE_API_KEY", default="x")},
        )


def test_a_declaration_is_read_only():
    declaration = import_module("patchbay.twilio.service").SERVICE

    with pytest.raises(AttributeError, match="read-only"):
        declaration.provider = "other"  # type: ignore[misc]
    assert declaration.provider == "twilio"
