from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from patchbay.loops import login
from patchbay.models import EmailEvent, EmailSuppression, LoginToken, OutboundEmail
from tests.conftest import assert_constant_queries
from tests.loops.helpers import API, live_loops

pytestmark = pytest.mark.django_db
__all__ = ["live_loops"]

KINDS = [EmailEvent.DELIVERED, EmailEvent.BOUNCED, EmailEvent.SENT, EmailEvent.COMPLAINED]


def rows(django_user_model, start, stop):
    for i in range(start, stop):
        user = django_user_model.objects.create_user(f"user{i}", f"u{i}@example.com", "pw")
        kind = KINDS[i % len(KINDS)]
        EmailEvent.objects.create(
            email=f"u{i}@example.com",
            kind=kind,
            provider_event=f"email.{kind}",
            message_id=f"msg_{i:04d}",
            template_id="tpl_login",
            occurred_at=timezone.now() - timedelta(minutes=i),
        )
        EmailSuppression.objects.create(email=f"u{i}@example.com", reason=EmailEvent.BOUNCED)
        login.create_login_token(user, "/inbox/", ip_address="203.0.113.7")
        outbound_email(f"u{i}@example.com", status=("sent", "failed", "pending")[i % 3])


RESET_LINK = "https://app.example.com/reset/MQ/secret-reset-token/"


def outbound_email(to_email="ada@example.com", **fields):
    # The field reads and writes a dict (django-stubs types it as the TextField it is).
    payload = {"data_variables": {"resetUrl": RESET_LINK, "name": "Ada"}}
    return OutboundEmail.objects.create(
        template_key="password_reset", to_email=to_email, payload=payload, **fields
    )


@pytest.mark.parametrize("model", ["emailevent", "emailsuppression", "logintoken", "outboundemail"])
def test_changelists_render_with_a_constant_number_of_queries(
    admin_client, django_user_model, model
):
    url = reverse(f"admin:patchbay_{model}_changelist")
    assert_constant_queries(
        admin_client, url, lambda start, stop: rows(django_user_model, start, stop)
    )


def test_email_events_show_kind_badges(admin_client, django_user_model):
    rows(django_user_model, 0, 2)
    page = admin_client.get(reverse("admin:patchbay_emailevent_changelist")).content.decode()
    assert ">Delivered</span>" in page
    assert ">Bounced</span>" in page
    assert "email.bounced" in page
    assert "tpl_login" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [("q=u1%40example.com", "u1@example.com"), ("q=msg_0002", "u2@example.com")],
)
def test_email_events_search_by_address_and_message_id(
    admin_client, django_user_model, query, expected
):
    rows(django_user_model, 0, 4)
    response = admin_client.get(reverse("admin:patchbay_emailevent_changelist") + "?" + query)
    assert [event.email for event in response.context["cl"].result_list] == [expected]


def test_email_events_filter_by_kind(admin_client, django_user_model):
    rows(django_user_model, 0, 8)
    url = reverse("admin:patchbay_emailevent_changelist") + "?kind__exact=bounced"
    events = admin_client.get(url).context["cl"].result_list
    assert [event.kind for event in events] == ["bounced", "bounced"]


def test_email_events_are_read_only(admin_client, django_user_model):
    rows(django_user_model, 0, 1)
    event = EmailEvent.objects.get()
    assert admin_client.get(reverse("admin:patchbay_emailevent_add")).status_code == 403
    page = admin_client.get(reverse("admin:patchbay_emailevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert b"msg_0000" in page.content
    assert b'name="email"' not in page.content


def test_superusers_delete_a_suppression_to_email_the_address_again(
    admin_client, django_user_model
):
    rows(django_user_model, 0, 1)
    suppression = EmailSuppression.objects.get()
    url = reverse("admin:patchbay_emailsuppression_delete", args=[suppression.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not EmailSuppression.objects.exists()


def test_staff_cannot_delete_suppressions(client, django_user_model):
    rows(django_user_model, 0, 1)
    staff = django_user_model.objects.create_user("staff", "s@example.com", "pw", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="patchbay",
            codename__in=["view_emailsuppression", "delete_emailsuppression"],
        )
    )
    client.force_login(staff)
    suppression = EmailSuppression.objects.get()
    url = reverse("admin:patchbay_emailsuppression_delete", args=[suppression.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert EmailSuppression.objects.exists()


def test_login_tokens_never_show_their_hash(admin_client, django_user_model):
    rows(django_user_model, 0, 2)
    token = LoginToken.objects.first()
    hashes = list(LoginToken.objects.values_list("token_hash", flat=True))
    pages = [
        admin_client.get(reverse("admin:patchbay_logintoken_changelist")),
        admin_client.get(reverse("admin:patchbay_logintoken_change", args=[token.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert not any(value in html for value in hashes)
        assert ">pending</span>" in html
    detail = pages[1].content.decode()
    assert "/inbox/" in detail
    assert "203.0.113.7" in detail
    assert 'name="next_url"' not in detail


def test_login_tokens_search_by_username_and_show_state(admin_client, django_user_model):
    rows(django_user_model, 0, 3)
    LoginToken.objects.filter(user__username="user1").update(used_at=timezone.now())
    url = reverse("admin:patchbay_logintoken_changelist")
    found = admin_client.get(url + "?q=user1").context["cl"].result_list
    assert [token.user.username for token in found] == ["user1"]
    assert ">used</span>" in admin_client.get(url + "?q=user1").content.decode()
    assert admin_client.get(reverse("admin:patchbay_logintoken_add")).status_code == 403


def test_outbound_emails_never_show_their_variables(admin_client):
    row = outbound_email(status="failed", attempts=5, error_code="api_error", error_message="busy")
    listing = admin_client.get(reverse("admin:patchbay_outboundemail_changelist"))
    detail = admin_client.get(reverse("admin:patchbay_outboundemail_change", args=[row.pk]))
    for page in (listing.content.decode(), detail.content.decode()):
        assert "secret-reset-token" not in page
        assert "ada@example.com" in page
    page = detail.content.decode()
    assert "name, resetUrl (values not shown)" in page
    assert f"patchbay-email-{row.pk}" in page
    assert ">Failed</span>" in page
    assert "busy" in page


@pytest.fixture
def loops_api(live_loops):
    import responses

    with responses.RequestsMock() as mocked:
        yield mocked.post(f"{API}/transactional", json={"success": True})


def test_send_again_queues_failed_emails_under_their_own_key(
    admin_client, loops_api, django_capture_on_commit_callbacks
):
    failed = outbound_email(status="failed", attempts=5, error_code="authentication_error")
    sent = outbound_email(status="sent")
    url = reverse("admin:patchbay_outboundemail_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"action": "send_again", "_selected_action": [failed.pk, sent.pk]}, follow=True
        )
    assert [str(message) for message in response.context["messages"]] == [
        "Queued 1 email again.",
        "1 email was not failed: left alone.",
    ]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error_code) == ("sent", 1, "")
    assert loops_api.call_count == 1
    assert loops_api.calls[0].request.headers["Idempotency-Key"] == f"patchbay-email-{failed.pk}"


def test_send_again_needs_change_permission(client, django_user_model):
    staff = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_outboundemail"))
    client.force_login(staff)
    outbound_email(status="failed")
    response = client.get(reverse("admin:patchbay_outboundemail_changelist"))
    assert response.status_code == 200
    assert "send_again" not in response.content.decode()
