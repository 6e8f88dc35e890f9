"""Loops emails with background=True: saved with the caller's transaction, sent after commit."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from django.db import transaction
from django.utils import timezone

from patchbay.loops import shortcuts
from patchbay.loops.tasks import deliver_email
from patchbay.models import EmailSuppression, OutboundEmail
from tests.loops.helpers import API, live_loops

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_loops")]
__all__ = ["live_loops"]

VARIABLES = {"resetUrl": "https://x/reset/abc/", "name": "Ada"}


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw", first_name="Ada")


@responses.activate
def test_sent_once_after_the_commit(django_capture_on_commit_callbacks):
    posted = responses.post(f"{API}/transactional", json={"success": True})
    with django_capture_on_commit_callbacks(execute=True):
        result = shortcuts.send_template(
            "password_reset", "ada@example.com", VARIABLES, background=True
        )
        assert posted.call_count == 0
    row = OutboundEmail.objects.get()
    assert result == {
        "success": True,
        "queued": True,
        "email_id": row.pk,
        "idempotency_key": f"patchbay-email-{row.pk}",
    }
    assert posted.call_count == 1
    request = posted.calls[0].request
    assert request.headers["Idempotency-Key"] == f"patchbay-email-{row.pk}"
    assert json.loads(request.body)["dataVariables"] == VARIABLES
    assert (row.status, row.attempts) == ("sent", 1)
    deliver_email(row.pk)  # the job run again: a sent row is left alone
    assert posted.call_count == 1


@responses.activate
def test_a_rollback_sends_nothing(django_capture_on_commit_callbacks, user):
    posted = responses.post(f"{API}/transactional", json={"success": True})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                shortcuts.send_password_reset_email(user, "https://x/r/", background=True)
                raise RuntimeError("the form failed")
        except RuntimeError:
            pass
    assert (callbacks, posted.call_count) == ([], 0)
    assert not OutboundEmail.objects.exists()


def make_due(email_id):
    OutboundEmail.objects.filter(pk=email_id).update(next_attempt_at=timezone.now())


@responses.activate
def test_a_retried_send_reuses_its_idempotency_key(django_capture_on_commit_callbacks):
    responses.post(f"{API}/transactional", body=requests.ConnectionError("reset by peer"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email_id = shortcuts.send_template(
            "password_reset", "ada@example.com", VARIABLES, background=True
        )["email_id"]
    callbacks[0]()  # enqueued and run: the answer is lost, the row is pending again
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.error_code, row.attempts) == ("pending", "connection_error", 1)
    assert row.next_attempt_at > timezone.now()
    deliver_email(email_id)  # a duplicate job, before the retry is due: nothing sent
    assert len(responses.calls) == 1
    make_due(email_id)
    responses.replace(responses.POST, f"{API}/transactional", json={"success": True})
    deliver_email(email_id)  # the retry
    keys = [call.request.headers["Idempotency-Key"] for call in responses.calls]
    assert keys == [f"patchbay-email-{email_id}"] * 2
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error_code, row.next_attempt_at) == ("sent", 2, "", None)


@responses.activate
def test_retries_back_off_and_stop_at_the_configured_attempts(
    settings, django_capture_on_commit_callbacks
):
    settings.PATCHBAY_SEND_MAX_ATTEMPTS = 3
    settings.PATCHBAY_SEND_RETRY_DELAY = 10.0
    settings.PATCHBAY_MAX_RETRIES = 0  # one POST an attempt (no retries within it)
    posted = responses.post(f"{API}/transactional", json={"message": "busy"}, status=503)
    with django_capture_on_commit_callbacks(execute=True):
        email_id = shortcuts.send_template(
            "password_reset", "ada@example.com", VARIABLES, background=True
        )["email_id"]
    delays = []
    for _ in range(2):
        row = OutboundEmail.objects.get(pk=email_id)
        assert row.status == "pending"
        delays.append((row.next_attempt_at - row.updated_at).total_seconds())
        make_due(email_id)
        deliver_email(email_id)
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.attempts, row.error_code) == ("failed", 3, "api_error")
    assert posted.call_count == 3
    assert 5 <= delays[0] <= 10  # the first delay, half of it jitter
    assert 10 <= delays[1] <= 20  # doubled


@responses.activate
def test_a_permanent_failure_is_recorded_and_not_retried(django_capture_on_commit_callbacks):
    posted = responses.post(
        f"{API}/transactional", json={"success": False, "message": "bad"}, status=400
    )
    with django_capture_on_commit_callbacks(execute=True):
        email_id = shortcuts.send_template(
            "password_reset", "ada@example.com", VARIABLES, background=True
        )["email_id"]
    row = OutboundEmail.objects.get(pk=email_id)
    assert row.status == "failed"
    assert row.error_code
    deliver_email(email_id)
    assert posted.call_count == 1


def test_refusals_come_at_once(django_capture_on_commit_callbacks):
    EmailSuppression.objects.create(email="gone@example.com", reason="bounced")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        suppressed = shortcuts.send_template(
            "password_reset", "gone@example.com", {}, background=True
        )
        invalid = shortcuts.send_template("password_reset", "not an address", {}, background=True)
    assert (suppressed["success"], suppressed["error_code"]) == (False, "suppressed")
    assert (invalid["success"], invalid["error_code"]) == (False, "invalid_email")
    assert callbacks == []
    assert not OutboundEmail.objects.exists()


def test_the_payload_is_encrypted_at_rest(django_capture_on_commit_callbacks):
    from django.db import connection

    with django_capture_on_commit_callbacks(execute=False):
        email_id = shortcuts.send_template(
            "password_reset", "ada@example.com", VARIABLES, background=True
        )["email_id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM patchbay_outboundemail WHERE id = %s", [email_id])
        (stored,) = cursor.fetchone()
    assert "reset" not in stored
    assert OutboundEmail.objects.get(pk=email_id).payload["data_variables"] == VARIABLES


@responses.activate
def test_the_setting_is_the_default(settings, user, django_capture_on_commit_callbacks):
    settings.PATCHBAY_SEND_IN_BACKGROUND = True
    posted = responses.post(f"{API}/transactional", json={"success": True})
    with django_capture_on_commit_callbacks(execute=True):
        membership = type("M", (), {"user": user, "team": "Acme", "role": "admin"})()
        assert shortcuts.send_team_membership_email(membership) is True
        assert posted.call_count == 0
    assert posted.call_count == 1
    assert OutboundEmail.objects.get().template_key == "team_membership"


def test_prune_deletes_old_sent_and_failed_emails_only():
    import io
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    rows = {
        status: OutboundEmail.objects.create(
            template_key="password_reset", to_email="ada@example.com", status=status
        )
        for status in ("pending", "sending", "sent", "failed")
    }
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(days=400))
    out = io.StringIO()
    call_command("patchbay_prune", stdout=out)
    assert "Deleted 2 sent or failed background emails" in out.getvalue()
    assert set(OutboundEmail.objects.values_list("pk", flat=True)) == {
        rows["pending"].pk,
        rows["sending"].pk,
    }


@responses.activate
def test_a_login_link_for_a_user_in_the_background(
    settings, user, django_capture_on_commit_callbacks
):
    from patchbay.loops.login import send_login_link
    from patchbay.models import LoginToken

    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    posted = responses.post(f"{API}/transactional", json={"success": True})
    with django_capture_on_commit_callbacks(execute=True):
        result = send_login_link(user, "/account/", background=True)
        assert posted.call_count == 0
    token = LoginToken.objects.get()
    row = OutboundEmail.objects.get()
    assert result == {
        "success": True,
        "login_token_id": token.pk,
        "expires_at": token.expires_at,
        "queued": True,
        "email_id": row.pk,
    }
    assert (row.template_key, row.status, posted.call_count) == ("login_code", "sent", 1)
    link = json.loads(posted.calls[0].request.body)["dataVariables"]["loginUrl"]
    assert link.startswith("https://app.example.com/")
    assert token.token_hash not in link


@responses.activate
def test_a_login_link_for_a_user_is_sent_now_without_background(settings, user):
    from patchbay.loops.login import send_login_link

    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    settings.PATCHBAY_SEND_IN_BACKGROUND = True
    posted = responses.post(f"{API}/transactional", json={"success": True})
    result = send_login_link(user, background=False)
    assert result["success"], result
    assert "queued" not in result
    assert posted.call_count == 1
    assert not OutboundEmail.objects.exists()
