from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
import responses

from patchbay.loops import shortcuts
from patchbay.models import EmailEvent, EmailSuppression
from tests.loops.helpers import API, live_loops

pytestmark = pytest.mark.django_db
__all__ = ["live_loops"]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        "ada", "ada@example.com", "pw", first_name="Ada", last_name="Lovelace"
    )


def sent(index=0):
    return json.loads(responses.calls[index].request.body)


@pytest.mark.usefixtures("live_loops")
class TestLive:
    @responses.activate
    def test_password_reset(self, user):
        responses.post(f"{API}/transactional", json={"success": True})
        assert shortcuts.send_password_reset_email(user, "https://x/reset/abc/") is None
        assert sent() == {
            "transactionalId": "tpl_reset",
            "email": "ada@example.com",
            "dataVariables": {"resetUrl": "https://x/reset/abc/", "name": "Ada Lovelace"},
        }

    @responses.activate
    def test_team_membership_is_duck_typed(self, user):
        responses.post(f"{API}/transactional", json={"success": True})
        membership = SimpleNamespace(user=user, team="Research", role="admin")
        assert shortcuts.send_team_membership_email(membership) is True
        assert sent()["transactionalId"] == "tpl_team"
        assert sent()["dataVariables"] == {
            "name": "Ada Lovelace",
            "teamName": "Research",
            "role": "admin",
        }

    @responses.activate
    def test_failures_are_logged_and_reported(self, user, caplog):
        responses.post(
            f"{API}/transactional", status=400, json={"success": False, "message": "Bad id"}
        )
        caplog.set_level(logging.ERROR, logger="patchbay.loops")
        shortcuts.send_password_reset_email(user, "https://x/reset/")
        assert "Bad id" in caplog.text
        membership = SimpleNamespace(user=user, team="Research", role="admin")
        assert shortcuts.send_team_membership_email(membership) is False

    def test_missing_template_id(self, user, settings, caplog):
        settings.LOOPS_TRANSACTIONAL_IDS = {}
        result = shortcuts.send_template("password_reset", "ada@example.com", {})
        assert result["error_code"] == "not_configured"
        assert "LOOPS_TRANSACTIONAL_IDS" in result["error"]

    @responses.activate
    def test_suppressed_addresses_are_skipped_unless_overridden(self, user):
        responses.post(f"{API}/transactional", json={"success": True})
        EmailSuppression.objects.create(email="ada@example.com", reason="bounced")
        result = shortcuts.send_template("password_reset", "Ada@Example.com", {})
        assert result["error_code"] == "suppressed"
        assert "bounced" in result["error"]
        assert len(responses.calls) == 0
        shortcuts.send_password_reset_email(user, "https://x/", ignore_suppression=True)
        assert len(responses.calls) == 1


class TestSimulated:
    @pytest.fixture(autouse=True)
    def _simulate(self, live_loops):
        live_loops.PATCHBAY_SIMULATE = True
        live_loops.LOOPS_WEBHOOK_SECRET = ""

    def test_outbox_and_simulated_delivery_events(self, user, patchbay_outbox):
        shortcuts.send_password_reset_email(user, "https://x/reset/")
        [call] = patchbay_outbox.filter(provider="loops", operation="transactional_email")
        assert call.data["payload"]["dataVariables"]["resetUrl"] == "https://x/reset/"
        assert list(EmailEvent.objects.order_by("id").values_list("kind", flat=True)) == [
            "sent",
            "delivered",
        ]
        assert EmailEvent.objects.filter(template_id="tpl_reset").count() == 2


class TestSimulatedWithoutTemplateIds:
    """Simulating needs no ``LOOPS_TRANSACTIONAL_IDS``: each template has a simulated id."""

    @pytest.fixture(autouse=True)
    def _simulate(self, settings):
        settings.PATCHBAY_SIMULATE = True
        del settings.LOOPS_TRANSACTIONAL_IDS

    def test_password_reset_goes_to_the_outbox(self, user, patchbay_outbox):
        assert shortcuts.send_password_reset_email(user, "https://x/reset/") is None
        [call] = patchbay_outbox.filter(provider="loops", operation="transactional_email")
        assert call.data["payload"]["transactionalId"] == "simulated-password_reset"
        assert call.data["payload"]["dataVariables"]["resetUrl"] == "https://x/reset/"

    def test_team_membership_and_any_template(self, user, patchbay_outbox):
        membership = SimpleNamespace(user=user, team="Research", role="admin")
        assert shortcuts.send_team_membership_email(membership) is True
        result = shortcuts.send_template("welcome", "ada@example.com", {})
        assert result["success"] is True
        assert result["simulated"] is True
        sent = patchbay_outbox.filter(provider="loops", operation="transactional_email")
        assert [call.data["payload"]["transactionalId"] for call in sent] == [
            "simulated-team_membership",
            "simulated-welcome",
        ]

    def test_a_configured_id_is_still_used(self, user, settings, patchbay_outbox):
        settings.LOOPS_TRANSACTIONAL_IDS = {"password_reset": "tpl_reset"}
        shortcuts.send_password_reset_email(user, "https://x/reset/")
        [call] = patchbay_outbox.filter(provider="loops", operation="transactional_email")
        assert call.data["payload"]["transactionalId"] == "tpl_reset"

    def test_live_without_ids_still_fails(self, user, settings, caplog):
        settings.PATCHBAY_SIMULATE = False
        settings.LOOPS_API_KEY = "loops-api-key-0123456789abcdef"
        caplog.set_level(logging.ERROR, logger="patchbay.loops")
        result = shortcuts.send_template("password_reset", "ada@example.com", {})
        assert result["error_code"] == "not_configured"
        shortcuts.send_password_reset_email(user, "https://x/reset/")
        assert "[not_configured]" in caplog.text
