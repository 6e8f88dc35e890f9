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
    settings.PATCHBAY_TIMEOUT = None  # set, even to None, is not unset
    assert conf.get("PATCHBAY_TIMEOUT", 1) is None
