from __future__ import annotations

import pytest

from patchbay.core.config import ARGUMENT, DATABASE, DEFAULT, SETTINGS
from patchbay.core.simulation import should_simulate
from patchbay.models import ExternalService
from tests.dummy import DummyClient


def service_row(**fields):
    # post_migrate already gave every registered service a row.
    row, _ = ExternalService.objects.update_or_create(provider="dummy", defaults=fields)
    return row


pytestmark = pytest.mark.django_db


def test_settings_are_the_fallback(settings):
    settings.DUMMY_API_KEY = "from-settings"
    client = DummyClient()
    assert client.config["api_key"] == "from-settings"
    assert client.config.sources == {"api_key": SETTINGS, "region": DEFAULT}
    assert client.config["region"] == "eu"


def test_enabled_row_beats_settings(settings):
    settings.DUMMY_API_KEY = "from-settings"
    service_row(credentials={"api_key": "from-db"}, options={"region": "us"})
    client = DummyClient()
    assert client.config["api_key"] == "from-db"
    assert client.config["region"] == "us"
    assert client.config.sources == {"api_key": DATABASE, "region": DATABASE}


def test_arguments_beat_the_row(settings):
    settings.DUMMY_API_KEY = "from-settings"
    service_row(credentials={"api_key": "from-db"})
    client = DummyClient(api_key="from-argument")
    assert client.config["api_key"] == "from-argument"
    assert client.config.sources["api_key"] == ARGUMENT


def test_empty_row_values_fall_through_to_settings(settings):
    settings.DUMMY_API_KEY = "from-settings"
    service_row(credentials={"api_key": ""})
    assert DummyClient().config.sources["api_key"] == SETTINGS


def test_disabled_row_is_not_a_source_and_disables(settings):
    settings.DUMMY_API_KEY = "from-settings"
    service_row(enabled=False, credentials={"api_key": "x"})
    client = DummyClient(debug_mode=False)
    assert client.config["api_key"] == "from-settings"
    result = client.create_item("a")
    assert result["success"] is False
    assert result["error_code"] == "service_disabled"
    assert "disabled in the admin" in result["error"]


def test_disabled_in_admin_also_blocks_simulation():
    service_row(enabled=False)
    result = DummyClient(debug_mode=True).create_item("a")
    assert result["error_code"] == "service_disabled"


def test_enabled_setting_false_blocks_live_calls_only(settings):
    settings.DUMMY_ENABLED = False
    settings.DUMMY_API_KEY = "key"
    live = DummyClient(debug_mode=False).create_item("a")
    assert live["error_code"] == "service_disabled"
    assert "DUMMY_ENABLED" in live["error"]
    assert DummyClient(debug_mode=True).create_item("a")["success"] is True


def test_saving_a_row_is_seen_immediately_by_new_clients(settings):
    settings.DUMMY_API_KEY = "from-settings"
    assert DummyClient().config["api_key"] == "from-settings"
    service = service_row(credentials={"api_key": "new"})
    assert DummyClient().config["api_key"] == "new"
    service.enabled = False
    service.save()
    assert DummyClient().config.disabled_in_admin is True


def test_unknown_argument_is_a_type_error():
    from patchbay.core.config import resolve_config

    with pytest.raises(TypeError, match="unexpected arguments"):
        resolve_config(DummyClient, {"nope": 1})


def test_config_repr_masks_secrets():
    client = DummyClient(api_key="super-secret-value")
    assert "super-secret-value" not in repr(client.config)
    assert "super-secret-value" not in repr(client)


@pytest.mark.parametrize(
    ("debug_mode", "simulate_setting", "debug", "expected"),
    [
        (True, False, False, True),
        (False, True, True, False),
        (None, True, False, True),
        (None, False, True, False),
        (None, None, True, True),
        (None, None, False, False),
    ],
)
def test_simulation_decision(settings, debug_mode, simulate_setting, debug, expected):
    settings.PATCHBAY_SIMULATE = simulate_setting
    settings.DEBUG = debug
    assert should_simulate(debug_mode) is expected
    assert DummyClient(debug_mode=debug_mode).debug_mode is expected


def test_conf_reads_settings_as_they_change(settings):
    from patchbay.conf import conf

    assert conf.get("PATCHBAY_NOT_A_SETTING", 5) == 5
    settings.PATCHBAY_NOT_A_SETTING = 6
    assert conf.get("PATCHBAY_NOT_A_SETTING", 5) == 6
    del settings.PATCHBAY_NOT_A_SETTING
    assert conf.get("PATCHBAY_NOT_A_SETTING", 5) == 5
    assert conf.TIMEOUT == 10.0
    settings.PATCHBAY_TIMEOUT = "2.5"  # from the environment: converted
    assert conf.TIMEOUT == 2.5
    settings.PATCHBAY_TIMEOUT = None  # None counts as unset, as everywhere in patchbay
    assert conf.TIMEOUT == 10.0


def test_conf_sees_settings_assigned_directly():
    # The spec's test fixture assigns settings.TESTING = True without override_settings.
    from django.conf import settings

    from patchbay.conf import conf

    settings.PATCHBAY_TIMEOUT = 3
    try:
        assert conf.TIMEOUT == 3.0
    finally:
        del settings.PATCHBAY_TIMEOUT
    assert conf.TIMEOUT == 10.0


def test_a_declared_setting_has_its_default_in_the_registry_only():
    from patchbay.conf import conf

    assert conf.get("AWS_MAX_UPLOAD_SIZE") == 10 * 1024 * 1024
    with pytest.raises(TypeError, match=r"declared in patchbay\.conf"):
        conf.get("AWS_MAX_UPLOAD_SIZE", 5)


@pytest.mark.parametrize(
    ("simulate_setting", "testing", "debug", "expected"),
    [
        (None, True, False, True),
        (None, False, True, True),
        (None, "yes", False, False),  # only True counts
        (False, True, True, False),
        (None, None, False, False),
    ],
)
def test_testing_setting_turns_simulation_on(settings, simulate_setting, testing, debug, expected):
    settings.PATCHBAY_SIMULATE = simulate_setting
    settings.TESTING = testing
    settings.DEBUG = debug
    assert should_simulate() is expected
    assert should_simulate(debug_mode=not expected) is (not expected)


@pytest.mark.parametrize("switch", [False, "", 0])
def test_any_false_enabled_setting_blocks_live_calls(settings, switch):
    settings.DUMMY_ENABLED = switch
    settings.DUMMY_API_KEY = "key"
    live = DummyClient(debug_mode=False).create_item("a")
    assert live["error_code"] == "service_disabled"
    assert f"DUMMY_ENABLED is {switch!r}" in live["error"]


@pytest.mark.parametrize("switch", [None, True, "whsec_truthy"])
def test_unset_or_true_enabled_setting_leaves_the_service_on(settings, switch):
    settings.DUMMY_ENABLED = switch
    settings.DUMMY_API_KEY = "key"
    assert DummyClient(debug_mode=False).config.disabled_reason == ""


def test_spec_stripe_enabled_without_webhook_secret_is_off(settings):
    from patchbay.stripe.client import StripeClient

    settings.STRIPE_API_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = ""
    # STRIPE_ENABLED = os.environ.get(...) == "true" or (STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET)
    settings.STRIPE_ENABLED = False or (settings.STRIPE_API_KEY and settings.STRIPE_WEBHOOK_SECRET)
    assert settings.STRIPE_ENABLED == ""
    assert "STRIPE_ENABLED is ''" in StripeClient(debug_mode=False).config.disabled_reason


def test_built_in_config_fields_take_default_and_doc_from_the_registry():
    from patchbay.aws.s3 import S3Client
    from patchbay.conf import SETTINGS as DECLARED
    from patchbay.loops.client import LoopsClient
    from patchbay.stripe.client import StripeClient

    api_key = StripeClient.config_fields["api_key"]
    assert api_key.help_text == DECLARED["STRIPE_API_KEY"].doc
    assert LoopsClient.config_fields["api_base"].default == DECLARED["LOOPS_API_BASE"].default
    assert S3Client().config["region_name"] == "us-east-1"
    assert S3Client().config.sources["region_name"] == DEFAULT


def test_a_config_field_may_not_repeat_a_declared_default():
    from patchbay.core.client import BaseClient
    from patchbay.core.config import ConfigField

    with pytest.raises(TypeError, match=r"STRIPE_API_BASE is declared in patchbay\.conf"):

        class Repeating(BaseClient):
            config_fields = {"api_base": ConfigField(setting="STRIPE_API_BASE", default="x")}


def test_your_own_settings_keep_their_config_field_default(settings):
    # Third-party services (docs/extending.rst) name settings patchbay does not declare.
    assert DummyClient.config_fields["region"].default == "eu"
    settings.DUMMY_REGION = "us"
    assert DummyClient().config["region"] == "us"


def test_patchbay_reads_its_settings_only_through_the_registry():
    import re
    from pathlib import Path

    import patchbay
    from patchbay.conf import SETTINGS as DECLARED

    root = Path(patchbay.__file__).parent
    files = [*root.rglob("*.py"), *(root.parent.parent / "example_project").rglob("*.py")]
    names = "|".join(DECLARED)
    inline_default = re.compile(r"conf\.get\([^)]*,")
    from_django = re.compile(rf"settings\.({names})\b|getattr\(\s*settings,\s*[\"']({names})[\"']")
    offenders = [
        str(path.relative_to(root.parent.parent))
        for path in files
        if path.name != "settings.py"  # a settings module defines them
        and path != root / "conf.py"
        and (inline_default.search(path.read_text()) or from_django.search(path.read_text()))
    ]
    assert offenders == []
