"""The simulated console: logging on ``patchbay.simulation`` only, never ``print()``."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

import patchbay
from patchbay.loops.client import LoopsClient
from patchbay.twilio import shortcuts as twilio_shortcuts
from patchbay.twilio import verification

SRC = Path(patchbay.__file__).resolve().parent
TO = "+14155552671"
LOOPS_KEY = "loops-api-key-never-logged-0123456789"

pytestmark = pytest.mark.django_db


def print_calls(path: Path) -> list[int]:
    """Lines of ``path`` that call the built-in ``print``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]


def test_print_calls_finds_a_print(tmp_path):
    # The detector itself, so that the test below cannot pass by finding nothing.
    sample = tmp_path / "sample.py"
    sample.write_text("import builtins\n\ndef f():\n    print('x')\n    builtins.len('y')\n")
    assert print_calls(sample) == [4]


def test_library_code_never_prints():
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 50
    printing = {
        str(path.relative_to(SRC)): lines for path in modules if (lines := print_calls(path))
    }
    assert printing == {}


@pytest.fixture
def simulating(settings):
    settings.PATCHBAY_SIMULATE = True
    return settings


def records_mentioning(caplog, text):
    return [record for record in caplog.records if text in record.getMessage()]


def test_the_console_is_the_patchbay_simulation_logger():
    from patchbay.core.simulation import console

    assert console.name == "patchbay.simulation"


def test_a_simulated_email_goes_to_the_console_logger_only(simulating, caplog, capsys):
    simulating.LOOPS_API_KEY = LOOPS_KEY
    caplog.set_level(logging.INFO)

    LoopsClient().transactional_email("ada@example.com", "tpl_1", {"loginUrl": "https://x/l/t"})

    [record] = records_mentioning(caplog, "https://x/l/t")
    assert (record.name, record.levelno) == ("patchbay.simulation", logging.INFO)
    assert "tpl_1" in record.getMessage()
    assert "ada@example.com" in record.getMessage()
    assert LOOPS_KEY not in caplog.text
    assert capsys.readouterr().out == ""


def test_a_simulated_sms_goes_to_the_console_logger_only(simulating, caplog, capsys):
    caplog.set_level(logging.INFO)

    twilio_shortcuts.send_verification_code(TO, "112233")

    [record] = records_mentioning(caplog, "112233")
    assert (record.name, record.levelno) == ("patchbay.simulation", logging.INFO)
    assert TO in record.getMessage()
    assert capsys.readouterr().out == ""


def test_a_simulated_twilio_verify_code_goes_to_the_console_logger_only(simulating, caplog, capsys):
    from patchbay.twilio.codes import simulated_verify_code

    simulating.PATCHBAY_PHONE_VERIFICATION_BACKEND = "twilio_verify"
    simulating.TWILIO_VERIFY_SERVICE_SID = "VA" + "0" * 32
    caplog.set_level(logging.INFO)

    assert verification.initiate_phone_verification(TO)["success"] is True

    [record] = records_mentioning(caplog, simulated_verify_code(TO))
    assert (record.name, record.levelno) == ("patchbay.simulation", logging.INFO)
    assert capsys.readouterr().out == ""


def test_nothing_reaches_the_console_live(settings, caplog):
    settings.PATCHBAY_SIMULATE = False
    caplog.set_level(logging.INFO)

    LoopsClient().transactional_email("ada@example.com", "tpl_1", {"loginUrl": "https://x/l/t"})

    assert [record for record in caplog.records if record.name == "patchbay.simulation"] == []


class TestConsoleWhileDebugging:
    """A fresh project configures no LOGGING: the simulated console still shows."""

    @pytest.fixture
    def logger(self):
        # Not from logging.getLogger: pytest attaches its capturing handlers to those.
        return logging.Logger("patchbay.simulation")  # no handler anywhere above it

    def test_added_where_no_handler_reaches_the_logger(self, logger, settings, capsys):
        from patchbay.core.simulation import show_console_while_debugging

        assert show_console_while_debugging(logger) is True
        settings.DEBUG = True
        logger.info("[patchbay simulated sms] to +1…: 123456")
        assert "123456" in capsys.readouterr().err

    def test_silent_while_debug_is_off(self, logger, settings, capsys):
        from patchbay.core.simulation import show_console_while_debugging

        show_console_while_debugging(logger)
        settings.DEBUG = False
        logger.info("[patchbay simulated sms] to +1…: 123456")
        assert capsys.readouterr().err == ""

    def test_a_project_that_configured_logging_is_left_alone(self, logger):
        from patchbay.core.simulation import show_console_while_debugging

        logger.addHandler(logging.NullHandler())
        assert show_console_while_debugging(logger) is False
        assert len(logger.handlers) == 1
