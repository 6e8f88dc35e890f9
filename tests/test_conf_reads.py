"""``conf`` reads settings from Django's settings object, however they were set.

A setting left at its default is read without the lazy proxy's fallback, which
raises and catches two exceptions per unset name: a presigned URL read five
such settings, for microseconds of a signature that takes a few hundred.
"""

from __future__ import annotations

from unittest.mock import patch

from django.conf import LazySettings
from django.conf import settings as django_settings
from django.test import override_settings

from patchbay.conf import conf


def test_an_unset_setting_is_its_default_without_the_proxys_fallback(settings):
    del settings.PATCHBAY_TIMEOUT  # unset, whatever the test settings say
    with patch.object(LazySettings, "__getattr__", side_effect=AssertionError("fallback")):
        assert conf.TIMEOUT == 10.0
        assert conf.raw("PATCHBAY_TIMEOUT") is None
        assert conf.get("SOME_SETTING_NOBODY_SET", "fallback") == "fallback"


def test_every_way_of_setting_is_seen(settings):
    settings.PATCHBAY_TIMEOUT = "2.5"  # the settings fixture (override_settings)
    assert conf.TIMEOUT == 2.5
    with override_settings(PATCHBAY_TIMEOUT=4):
        assert conf.TIMEOUT == 4.0
        assert conf.raw("PATCHBAY_TIMEOUT") == 4
    assert conf.TIMEOUT == 2.5
    try:
        django_settings.PATCHBAY_TIMEOUT = 6  # assigned directly
        assert conf.TIMEOUT == 6.0
    finally:
        del django_settings.PATCHBAY_TIMEOUT
    assert conf.TIMEOUT == 10.0  # deleted: the default


def test_settings_django_computes_are_read_through_django(settings):
    settings.STATIC_URL = "static/"
    with patch("django.urls.get_script_prefix", return_value="/app/"):
        assert conf.raw("STATIC_URL") == "/app/static/"
