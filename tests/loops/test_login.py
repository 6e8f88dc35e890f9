"""Sign-in links: hashed single-use tokens, expiry, safe redirects, the email, the limits."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import responses
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patchbay.core.simulation import outbox
from patchbay.loops import login, shortcuts
from patchbay.models import EmailSuppression, IntegrationLog, LoginToken
from tests.conftest import run_concurrently
from tests.loops.helpers import API, TEMPLATES, live_loops

pytestmark = pytest.mark.django_db
__all__ = ["live_loops"]

EVIL_NEXT_URLS = [
    "//evil.com",
    "https://evil.com/x",
    "/\\evil.com",
    "javascript:alert(1)",
    "http://testserver.evil.com/",
]


@pytest.fixture
def simulated(settings):
    settings.PATCHBAY_SIMULATE = True
    settings.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
    settings.LOGIN_REDIRECT_URL = "/welcome/"
    return settings


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        "ada", "ada@example.com", "pw", first_name="Ada", last_name="Lovelace"
    )


def sent_emails():
    return outbox.filter(provider="loops", operation="transactional_email")


def last_link():
    """The sign-in link of the last simulated email, as the user receives it."""
    return sent_emails()[-1].data["payload"]["dataVariables"]["loginUrl"]


def send_link(user, next_url=None, **kwargs):
    assert shortcuts.send_login_code_email(user, next_url, **kwargs) is None
    return last_link()


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


# -- the email ------------------------------------------------------------------------------


class TestEmail:
    def test_simulated_email_carries_an_absolute_link(self, simulated, user):
        simulated.PATCHBAY_PUBLIC_URL = "https://app.example.com/"
        simulated.PATCHBAY_MAGIC_LINK_TTL_MINUTES = 10

        link = send_link(user)

        (email,) = sent_emails()
        assert email.data["payload"]["transactionalId"] == "tpl_login"
        assert email.data["payload"]["email"] == "ada@example.com"
        variables = email.data["payload"]["dataVariables"]
        assert variables["name"] == "Ada Lovelace"
        assert variables["expiresInMinutes"] == 10
        assert link.startswith("https://app.example.com/integrations/login/")
        token = link.rstrip("/").rsplit("/", 1)[-1]
        assert link == "https://app.example.com" + reverse(
            "patchbay:magic-link-login", args=[token]
        )

    def test_without_a_public_url_the_link_is_a_path(self, simulated, user):
        assert send_link(user).startswith("/integrations/login/")

    def test_token_expires_after_the_configured_minutes(self, simulated, user):
        simulated.PATCHBAY_MAGIC_LINK_TTL_MINUTES = 5
        before = timezone.now()
        send_link(user)
        row = LoginToken.objects.get()
        assert before + timedelta(minutes=5) <= row.expires_at
        assert row.expires_at <= timezone.now() + timedelta(minutes=5)

    def test_the_shortcut_is_the_login_module_function(self):
        assert shortcuts.send_login_code_email is login.send_login_code_email

    @responses.activate
    def test_live_send_goes_to_loops(self, live_loops, user):
        responses.post(f"{API}/transactional", json={"success": True})
        live_loops.PATCHBAY_PUBLIC_URL = "https://app.example.com"

        result = login.send_login_link(user, "/inbox/")

        assert result["success"] is True
        assert result["login_token_id"] == LoginToken.objects.get().pk
        sent = json.loads(responses.calls[0].request.body)
        assert sent["transactionalId"] == "tpl_login"
        assert sent["dataVariables"]["loginUrl"].startswith(
            "https://app.example.com/integrations/login/"
        )

    @responses.activate
    def test_a_failed_send_leaves_no_usable_token(self, live_loops, user, caplog):
        responses.post(f"{API}/transactional", status=400, json={"message": "Bad template"})
        live_loops.PATCHBAY_PUBLIC_URL = "https://app.example.com"
        caplog.set_level(logging.WARNING, logger="patchbay.loops")

        shortcuts.send_login_code_email(user)

        assert not LoginToken.objects.exists()
        assert "Bad template" in caplog.text


class TestNothingIsSent:
    def test_inactive_user(self, simulated, user, caplog):
        user.is_active = False
        user.save()
        caplog.set_level(logging.WARNING, logger="patchbay.loops")

        shortcuts.send_login_code_email(user)

        assert sent_emails() == []
        assert not LoginToken.objects.exists()
        assert "inactive_user" in caplog.text

    def test_user_without_email(self, simulated, user, caplog):
        user.email = ""
        user.save()
        caplog.set_level(logging.WARNING, logger="patchbay.loops")

        shortcuts.send_login_code_email(user)

        assert sent_emails() == []
        assert "no_email" in caplog.text

    def test_suppressed_address(self, simulated, user, caplog):
        EmailSuppression.objects.create(email="ada@example.com", reason="bounced")
        caplog.set_level(logging.WARNING, logger="patchbay.loops")

        result = login.send_login_link(user)

        assert result["error_code"] == "suppressed"
        assert sent_emails() == []
        assert not LoginToken.objects.exists()

    def test_missing_template_id_live(self, live_loops, user, caplog):
        live_loops.LOOPS_TRANSACTIONAL_IDS = {"password_reset": "tpl_reset"}
        live_loops.PATCHBAY_PUBLIC_URL = "https://example.com"
        caplog.set_level(logging.WARNING, logger="patchbay.loops")

        shortcuts.send_login_code_email(user)

        assert not LoginToken.objects.exists()
        assert "not_configured" in caplog.text
        assert "login_code" in caplog.text

    def test_simulating_needs_no_template_id(self, simulated, user):
        del simulated.LOOPS_TRANSACTIONAL_IDS

        assert login.send_login_link(user)["success"] is True

        [email] = sent_emails()
        assert email.data["payload"]["transactionalId"] == "simulated-login_code"
        assert LoginToken.objects.count() == 1


class TestSendLimits:
    def test_per_user(self, simulated, user, django_user_model):
        simulated.PATCHBAY_MAGIC_LINK_SENDS_PER_USER = 3
        results = [login.send_login_link(user) for _ in range(4)]

        assert [result["success"] for result in results] == [True, True, True, False]
        assert results[-1]["error_code"] == "rate_limited"
        assert 0 < results[-1]["retry_after"] <= 3600
        assert len(sent_emails()) == 3
        other = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
        assert login.send_login_link(other)["success"] is True

    def test_per_client_ip(self, simulated, django_user_model, rf):
        simulated.PATCHBAY_MAGIC_LINK_SENDS_PER_IP = 2
        users = [
            django_user_model.objects.create_user(f"u{i}", f"u{i}@example.com", "pw")
            for i in range(3)
        ]
        request = rf.post("/", REMOTE_ADDR="203.0.113.9")

        results = [login.send_login_link(one, request=request) for one in users]

        assert [result["success"] for result in results] == [True, True, False]
        assert LoginToken.objects.filter(ip_address="203.0.113.9").count() == 2
        other_ip = rf.post("/", REMOTE_ADDR="203.0.113.10")
        assert login.send_login_link(users[2], request=other_ip)["success"] is True


# -- the token ------------------------------------------------------------------------------


class TestToken:
    def test_only_the_hash_is_stored(self, simulated, user, caplog):
        caplog.set_level(logging.DEBUG)
        token = send_link(user, "/inbox/").rstrip("/").rsplit("/", 1)[-1]

        row = LoginToken.objects.get()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = [str(value) for value in LoginToken.objects.values_list().get()]
        assert not any(token in value for value in stored)
        summaries = json.dumps(list(IntegrationLog.objects.values_list("request_summary")))
        assert token not in summaries
        # Only the simulated console shows the email, link included, as the outbox does.
        showing = {record.name for record in caplog.records if token in record.getMessage()}
        assert showing == {"patchbay.simulation"}
        assert token not in str(row)
        assert token not in repr(row)

    def test_tokens_are_long_random_and_url_safe(self, user):
        tokens = {login.create_login_token(user)[0] for _ in range(20)}
        assert len(tokens) == 20
        assert all(len(token) >= 43 for token in tokens)
        assert all(token.replace("-", "").replace("_", "").isalnum() for token in tokens)

    def test_consumed_once(self, user):
        token, _ = login.create_login_token(user)
        assert login.consume_login_token(token).user == user
        assert login.consume_login_token(token) is None
        assert LoginToken.objects.get().used_at is not None

    def test_expired(self, user):
        token, row = login.create_login_token(user)
        LoginToken.objects.filter(pk=row.pk).update(expires_at=timezone.now())
        assert login.is_usable(token) is False
        assert login.consume_login_token(token) is None
        assert LoginToken.objects.get().state() == "expired"

    @pytest.mark.parametrize("guess", ["", "x", secrets.token_urlsafe(32), "A" * 43, "a" * 5000])
    def test_guesses_fail(self, user, guess):
        token, _ = login.create_login_token(user)
        assert login.consume_login_token(guess) is None
        assert login.is_usable(token) is True

    def test_a_near_miss_fails(self, user):
        token, _ = login.create_login_token(user)
        near = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert login.consume_login_token(near) is None
        assert login.consume_login_token(token + "A") is None
        assert login.consume_login_token(token[:-1]) is None
        assert login.is_usable(token) is True


@pytest.mark.django_db(transaction=True)
def test_parallel_clicks_sign_in_once(postgres_only, settings, django_user_model):
    settings.LOGIN_REDIRECT_URL = "/welcome/"
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    token, _ = login.create_login_token(user)
    url = reverse("patchbay:magic-link-login", args=[token])

    statuses = run_concurrently(lambda: Client().post(url).status_code, 12)

    assert sorted(statuses) == [302] + [400] * 11


# -- the view -------------------------------------------------------------------------------


class TestView:
    def test_a_valid_link_signs_in_and_redirects(self, simulated, client, user):
        link = send_link(user)

        response = client.post(link)

        assert response.status_code == 302
        assert response["Location"] == "/welcome/"
        assert signed_in_user_id(client) == str(user.pk)
        assert response["Referrer-Policy"] == "same-origin"
        assert "no-store" in response["Cache-Control"]

    def test_a_used_link_signs_nobody_in(self, simulated, user):
        link = send_link(user)
        assert Client().post(link).status_code == 302

        again = Client()
        response = again.post(link)

        assert response.status_code == 400
        assert b"This sign-in link does not work" in response.content
        assert signed_in_user_id(again) is None

    def test_an_expired_link_signs_nobody_in(self, simulated, client, user):
        link = send_link(user)
        LoginToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

        response = client.get(link)

        assert response.status_code == 400
        assert signed_in_user_id(client) is None

    def test_a_guessed_link_signs_nobody_in(self, simulated, client, user):
        send_link(user)
        url = reverse("patchbay:magic-link-login", args=[secrets.token_urlsafe(32)])

        response = client.get(url)

        assert response.status_code == 400
        assert signed_in_user_id(client) is None
        assert LoginToken.objects.get().used_at is None

    def test_the_refusal_does_not_say_why(self, simulated, user):
        used = send_link(user)
        assert Client().post(used).status_code == 302
        expired = send_link(user)
        LoginToken.objects.filter(used_at__isnull=True).update(expires_at=timezone.now())
        guessed = reverse("patchbay:magic-link-login", args=["nope"])
        pages = {Client().get(url).content for url in (used, expired, guessed)}
        assert len(pages) == 1

    def test_an_inactive_user_is_not_signed_in(self, simulated, client, user):
        link = send_link(user)
        user.is_active = False
        user.save()

        response = client.post(link)

        assert response.status_code == 400
        assert signed_in_user_id(client) is None

    def test_a_safe_next_url_is_honoured(self, simulated, client, user):
        response = client.post(send_link(user, "/inbox/?tab=unread"))
        assert response["Location"] == "/inbox/?tab=unread"

    def test_a_next_url_on_this_host_is_honoured(self, simulated, client, user):
        response = client.post(send_link(user, "http://testserver/inbox/"))
        assert response["Location"] == "http://testserver/inbox/"

    @pytest.mark.parametrize("next_url", EVIL_NEXT_URLS)
    def test_an_open_redirect_is_refused(self, simulated, client, user, next_url):
        response = client.post(send_link(user, next_url))

        assert response.status_code == 302
        assert response["Location"] == "/welcome/"
        assert signed_in_user_id(client) == str(user.pk)

    def test_https_requests_refuse_an_http_next_url(self, simulated, user):
        link = send_link(user, "http://testserver/inbox/")
        response = Client().post(link, secure=True)
        assert response["Location"] == "/welcome/"

    def test_the_query_string_never_sets_the_target(self, simulated, client, user):
        link = send_link(user)
        response = client.post(link + "?next=/inbox/")
        assert response["Location"] == "/welcome/"

    def test_login_redirect_url_may_be_a_url_name(self, simulated, client, user):
        simulated.LOGIN_REDIRECT_URL = "admin:index"
        assert client.post(send_link(user))["Location"] == reverse("admin:index")

    def test_the_first_authentication_backend_is_recorded(self, simulated, client, user):
        simulated.AUTHENTICATION_BACKENDS = [
            "django.contrib.auth.backends.AllowAllUsersModelBackend",
            "django.contrib.auth.backends.ModelBackend",
        ]
        client.post(send_link(user))
        assert client.session["_auth_user_backend"] == simulated.AUTHENTICATION_BACKENDS[0]

    def test_signing_in_replaces_another_users_session(
        self, simulated, client, user, django_user_model
    ):
        bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
        client.force_login(bob)
        before = client.session.session_key

        client.post(send_link(user))

        assert signed_in_user_id(client) == str(user.pk)
        assert client.session.session_key != before

    def test_head_requests_do_not_use_the_link(self, simulated, client, user):
        link = send_link(user)
        assert client.head(link).status_code == 200
        assert signed_in_user_id(client) is None
        assert client.post(link).status_code == 302

    def test_other_methods_are_refused(self, simulated, client, user):
        link = send_link(user)
        assert client.put(link).status_code == 405
        assert LoginToken.objects.get().used_at is None


class TestConfirmStep:
    @pytest.fixture
    def confirming(self, simulated):
        simulated.PATCHBAY_MAGIC_LINK_CONFIRM = True
        return simulated

    def test_get_asks_and_post_signs_in(self, confirming, user):
        browser = Client(enforce_csrf_checks=True)
        link = send_link(user, "/inbox/")
        path = urlsplit(link).path

        page = browser.get(path)
        assert page.status_code == 200
        assert b'<form method="post"' in page.content
        assert signed_in_user_id(browser) is None
        assert LoginToken.objects.get().used_at is None

        csrf = browser.cookies["csrftoken"].value
        response = browser.post(path, {"csrfmiddlewaretoken": csrf})
        assert response["Location"] == "/inbox/"
        assert signed_in_user_id(browser) == str(user.pk)

    def test_post_needs_the_csrf_token(self, confirming, user):
        browser = Client(enforce_csrf_checks=True)
        link = send_link(user)
        assert browser.post(link).status_code == 403
        assert LoginToken.objects.get().used_at is None

    def test_an_unusable_link_shows_the_refusal_at_once(self, confirming, client, user):
        link = send_link(user)
        Client().post(link)
        assert client.get(link).status_code == 400
