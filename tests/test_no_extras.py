"""patchbay must import and pass ``manage.py check`` without any provider SDK.

CI also runs this module in a virtualenv with no extras installed; here the
SDKs are hidden with an import blocker so the main suite proves it too.
"""

from __future__ import annotations

import textwrap

from tests.interpreter import run_python as run_fresh
from tests.simulated_tour import assert_every_step_succeeded, tour_outcomes

SDKS = [
    "stripe",
    "twilio",
    "boto3",
    "botocore",
    "storages",
    "requests",
    "django_redis",
    "phonenumbers",
    "authlib",
    "health_check",
    "prometheus_client",
]

BLOCKER = textwrap.dedent(
    """
    import sys

    class BlockSDKs:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {sdks!r}:
                raise ImportError(f"{{name}} is blocked for this test")
            return None

    sys.meta_path.insert(0, BlockSDKs())
    """
).format(sdks=set(SDKS))


def run_python(code):
    return run_fresh(BLOCKER + textwrap.dedent(code))


def test_every_module_imports_and_no_sdk_is_loaded():
    result = run_python(
        """
        import pkgutil, importlib, sys
        import django
        django.setup()
        import patchbay
        for module in pkgutil.walk_packages(patchbay.__path__, "patchbay."):
            if module.name.startswith("patchbay.testing"):
                continue  # needs pytest, which users' test environments have
            if module.name == "patchbay.health_checks":
                continue  # django-health-check's checks: imported only where it is installed
            importlib.import_module(module.name)
        loaded = sorted({name.split(".")[0] for name in sys.modules} & set(SDK_NAMES))
        print("LOADED", loaded)
        """.replace("SDK_NAMES", repr(SDKS))
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout


def test_manage_py_check_passes_without_sdks():
    result = run_python(
        """
        from django.core.management import execute_from_command_line
        execute_from_command_line(["manage.py", "check"])
        """
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_live_call_without_its_sdk_is_a_clear_failure():
    result = run_python(
        """
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        from patchbay.core.client import BaseClient

        class Needy(BaseClient):
            provider = "needy"
            sdk_module = "stripe"
            extra = "stripe"

            def ping(self):
                return self.call("ping", lambda: self.sdk(), simulate=lambda: {})

        print("RESULT", Needy(debug_mode=False).ping())

        from patchbay.twilio.client import TwilioClient
        print("TWILIO", TwilioClient(debug_mode=False).send_sms("+14155552671", "hi"))
        print("SIMULATED", TwilioClient(debug_mode=True).send_sms("+14155552671", "hi"))
        print("NOT_E164", TwilioClient(debug_mode=True).send_sms("(415) 555-2671", "hi"))
        """
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split(" ", 1)[0]: line for line in result.stdout.splitlines()}
    assert "'error_code': 'sdk_missing'" in lines["RESULT"]
    # Live, Twilio needs phonenumbers to validate: a clear failure, not a crash.
    assert "'error_code': 'sdk_missing'" in lines["TWILIO"]
    # Simulating without phonenumbers, strict E.164 numbers are accepted, others refused.
    assert "'success': True" in lines["SIMULATED"]
    assert "'error_code': 'invalid_number'" in lines["NOT_E164"]
    assert 'pip install \\"django-patchbay[stripe]\\"' in result.stdout or (
        "django-patchbay[stripe]" in result.stdout
    )


def test_every_shortcut_simulates_without_any_sdk(tmp_path):
    result = run_python(
        f"""
        import json
        import django
        django.setup()
        from django.core.management import call_command
        from django.test.utils import override_settings
        call_command("migrate", verbosity=0)
        from tests import simulated_tour

        # A developer's machine: simulation follows DEBUG (and only then are deliveries
        # signed with the public simulation secrets accepted).
        with override_settings(DEBUG=True, MEDIA_ROOT={str(tmp_path)!r}):
            outcomes = simulated_tour.run()
        loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({SDKS!r}))
        print("LOADED", loaded)
        print("OUTCOMES", json.dumps(outcomes))
        """
    )
    assert_every_step_succeeded(tour_outcomes(result))
    assert "LOADED []" in result.stdout
