"""``sdk_available``: whether a provider SDK can be imported, asked before every live call."""

from __future__ import annotations

import sys
import types

from patchbay.core.sdk import sdk_available


def test_an_imported_module_is_available_without_searching_for_it(monkeypatch):
    import json  # imported: its spec is in sys.modules

    def search(*args, **kwargs):
        raise AssertionError("searched")

    monkeypatch.setattr("importlib.util.find_spec", search)
    assert sdk_available(json.__name__) is True


def test_a_stand_in_without_a_spec_or_a_blocked_module_is_not(monkeypatch):
    monkeypatch.setitem(sys.modules, "patchbay_fake_sdk", types.ModuleType("patchbay_fake_sdk"))
    assert sdk_available("patchbay_fake_sdk") is False  # as find_spec says: no __spec__
    monkeypatch.setitem(sys.modules, "patchbay_blocked_sdk", None)
    assert sdk_available("patchbay_blocked_sdk") is False
    assert sdk_available("patchbay_no_such_sdk") is False
