"""patchbay.testing: the fixtures, context managers and webhook signers users test with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.test import SimpleTestCase, TestCase
from django.urls import path

from patchbay.core.breaker import CLOSED, OPEN, CircuitBreaker
from patchbay.core.config import load_service_row
from patchbay.core.signing import verify_hmac_sha256
from patchbay.core.simulation import SimulatedCall, should_simulate
from patchbay.models import ExternalService
from patchbay.testing import (
    encode_payload,
    live,
    outbox,
    post_signed_webhook,
    reset_state,
    sign_hmac_sha256,
    simulate,
)
from tests.extending.acme_notify.client import AcmeNotifyClient
from tests.extending.acme_notify.shortcuts import notify_user

REPO_ROOT = Path(__file__).resolve().parent.parent


@login_not_required  # posted to as a provider's webhook is, without a session
def echo(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"body": request.body.decode(), "headers": dict(request.headers)})


urlpatterns = [path("echo/", echo)]


# -- simulation switches ----------------------------------------------------------------


def test_simulate_fixture_forces_simulation_with_debug_off(settings, patchbay_simulate):
    settings.DEBUG = False

    assert should_simulate() is True


def test_live_fixture_forces_live_calls_with_debug_on(settings, patchbay_live):
    settings.DEBUG = True

    assert should_simulate() is False


def test_context_managers_switch_and_restore():
    with simulate():
        assert should_simulate() is True
        with live():
            assert should_simulate() is False
    assert should_simulate() is False  # the test settings' default: DEBUG is False


@simulate()
class SimulatedTestCase(SimpleTestCase):
    """How Django TestCase users switch simulation on for a whole class."""

    def test_the_class_decorator_turns_simulation_on(self):
        assert should_simulate()

    @live()
    def test_a_method_decorator_overrides_it(self):
        assert not should_simulate()


@simulate()
class NotifyUserTests(TestCase):
    """A Django TestCase of code that calls a service: simulated, asserted on the outbox."""

    def setUp(self):
        reset_state()

    def test_notify_user_pushes_one_notification(self):
        user = get_user_model().objects.create_user("ada")

        result = notify_user(user, "Your order has shipped")

        assert result["simulated"] is True
        [sent] = outbox.filter(provider="acme_notify", operation="send_notification")
        assert sent.data["message"] == "Your order has shipped"


# -- the outbox and state reset ---------------------------------------------------------


def pretend_sent() -> None:
    outbox.append(SimulatedCall("acme_notify", "send_notification", {"to": "earlier-test"}))


@pytest.fixture
def _sent_before():
    pretend_sent()


@pytest.mark.usefixtures("_sent_before")
def test_outbox_fixture_starts_empty(patchbay_outbox):
    assert patchbay_outbox is outbox
    assert len(patchbay_outbox) == 0


@pytest.mark.django_db
def test_outbox_collects_what_simulated_clients_send(patchbay_simulate, patchbay_outbox):
    AcmeNotifyClient().send_notification("device-1", "Hi")
    AcmeNotifyClient().check_health()

    [sent] = patchbay_outbox.filter(provider="acme_notify", operation="send_notification")
    assert sent.data["to"] == "device-1"
    assert [call.operation for call in patchbay_outbox] == ["send_notification", "health_check"]


def open_breaker() -> CircuitBreaker:
    breaker = CircuitBreaker("acme_notify", threshold=1)
    breaker.record_failure()
    assert breaker.state == OPEN
    return breaker


@pytest.mark.django_db
def test_reset_state_forgets_outbox_breakers_and_cached_rows():
    breaker = open_breaker()
    pretend_sent()
    assert load_service_row("acme_notify") is not None
    # A rollback between tests changes rows without the signal that drops the cache.
    ExternalService.objects.filter(provider="acme_notify").update(enabled=False)
    assert load_service_row("acme_notify").enabled is True

    reset_state()

    assert breaker.state == CLOSED
    assert len(outbox) == 0
    assert load_service_row("acme_notify").enabled is False


@pytest.fixture
def _breaker_left_open():
    open_breaker()


@pytest.mark.usefixtures("_breaker_left_open")
def test_reset_fixture_starts_with_closed_breakers(patchbay_reset):
    assert CircuitBreaker("acme_notify").state == CLOSED


# -- webhook signing --------------------------------------------------------------------


def test_sign_hmac_sha256_matches_rfc_4231():
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

    assert sign_hmac_sha256("Jefe", "what do ya want for nothing?") == f"sha256={expected}"
    assert sign_hmac_sha256(b"Jefe", b"what do ya want for nothing?", prefix="") == expected


def test_signatures_pass_the_cores_verifier():
    signature = sign_hmac_sha256("secret", b"{}")

    assert verify_hmac_sha256("secret", b"{}", signature, prefix="sha256=")
    assert not verify_hmac_sha256("other", b"{}", signature, prefix="sha256=")


@pytest.mark.parametrize(
    ("payload", "body"),
    [({"id": "evt_1"}, b'{"id": "evt_1"}'), ("not json", b"not json"), (b"\xff", b"\xff")],
)
def test_encode_payload(payload, body):
    assert encode_payload(payload) == body


@pytest.mark.urls(__name__)
def test_post_signed_webhook_signs_the_exact_body_it_sends(client):
    response = post_signed_webhook(client, "/echo/", {"id": "evt_1"}, secret="s3cret")

    received = response.json()
    assert received["body"] == '{"id": "evt_1"}'
    assert received["headers"]["Content-Type"] == "application/json"
    assert received["headers"]["X-Signature"] == sign_hmac_sha256("s3cret", received["body"])


@pytest.mark.urls(__name__)
def test_post_signed_webhook_header_prefix_and_extra_headers(client):
    response = post_signed_webhook(
        client,
        "/echo/",
        "{}",
        secret="s3cret",
        header="X-Acme-Signature",
        prefix="",
        headers={"X-Acme-Event": "ping"},
    )

    headers = response.json()["headers"]
    assert headers["X-Acme-Signature"] == sign_hmac_sha256("s3cret", "{}", prefix="")
    assert headers["X-Acme-Event"] == "ping"


# -- how users load it ------------------------------------------------------------------


# As docs/testing.rst shows it, plus an import of the package before it is named.
USER_CONFTEST = """
import pytest
from patchbay.testing import simulate

pytest_plugins = ["patchbay.testing"]


@pytest.fixture(autouse=True)
def _patchbay_isolation(patchbay_reset):
    \"\"\"Every test starts with an empty outbox and closed circuit breakers.\"\"\"
"""

USER_TESTS = """
from patchbay.core.simulation import should_simulate

def test_simulated(patchbay_simulate, patchbay_outbox):
    assert should_simulate() and len(patchbay_outbox) == 0

def test_live(patchbay_live):
    assert not should_simulate()
"""

WITHOUT_PYTEST = """
import sys
sys.modules["pytest"] = None  # every import of pytest now fails
import django
django.setup()
from patchbay.testing import post_signed_webhook, simulate
"""


def run_python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The child uses in-memory SQLite and caches, whatever servers this run uses.
    env = {name: value for name, value in os.environ.items() if not name.endswith("_URL")}
    env.update(PYTHONPATH=str(REPO_ROOT), DJANGO_SETTINGS_MODULE="tests.settings")
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_users_conftest_enables_the_plugin(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    (tmp_path / "conftest.py").write_text(USER_CONFTEST)
    (tmp_path / "test_user.py").write_text(USER_TESTS)

    result = run_python("-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_importable_without_pytest(tmp_path):
    result = run_python("-c", WITHOUT_PYTEST, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
