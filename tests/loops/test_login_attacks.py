"""Issue 14, findings 4 and 5: sign-in links tell nobody which addresses have accounts,
scanners cannot use them up and another site cannot sign a visitor in with them."""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.decorators import login_not_required
from django.core.cache import caches
from django.db import DataError, connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from patchbay.core.simulation import outbox
from patchbay.loops import login, shortcuts
from patchbay.models import LoginToken
from tests.loops.helpers import TEMPLATES

pytestmark = pytest.mark.django_db

CONTROL_NEXT_URLS = ["/a\x00b", "/a\x01b", "/a\nb", "/a\rb", "/a\tb", "/a\x7fb", "/a\x85b"]


@pytest.fixture
def simulated(settings):
    settings.PATCHBAY_SIMULATE = True
    settings.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
    settings.LOGIN_REDIRECT_URL = "/welcome/"
    return settings


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


def sent_emails():
    return outbox.filter(provider="loops", operation="transactional_email")


def links():
    return [email.data["payload"]["dataVariables"]["loginUrl"] for email in sent_emails()]


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


# -- views for the tests' URLconf ------------------------------------------------------------


@login_not_required  # a sign-in form, also under LoginRequiredMiddleware
def ask_for_a_link(request):
    """A sign-in form's view: the send must not have happened when the view answers."""
    result = login.send_login_link_to_address(
        request.POST["email"], next_url=request.POST.get("next"), request=request
    )
    assert sent_emails() == []  # nothing is sent while the request is handled
    assert not LoginToken.objects.exists()
    return HttpResponse(str(result["success"]))


@login_not_required  # a sign-in form, also under LoginRequiredMiddleware
def ask_for_a_link_by_user(request):
    from django.contrib.auth import get_user_model

    for one in get_user_model().objects.filter(email__iexact=request.POST["email"]):
        shortcuts.send_login_code_email(one, next_url="/inbox/", request=request)
    assert sent_emails() == []
    return HttpResponse("ok")


urlpatterns = [
    path("integrations/", include("patchbay.urls")),
    path("ask/", ask_for_a_link),
    path("ask-by-user/", ask_for_a_link_by_user),
]


# -- 4. control characters in next -----------------------------------------------------------


class TestControlCharactersInNext:
    @pytest.mark.parametrize("next_url", CONTROL_NEXT_URLS)
    def test_refused_before_anything_is_stored(self, simulated, user, next_url):
        result = login.send_login_link(user, next_url)

        assert result["success"] is False
        assert result["error_code"] == "invalid_request"
        assert not LoginToken.objects.exists()
        assert sent_emails() == []

    @pytest.mark.parametrize("next_url", CONTROL_NEXT_URLS)
    def test_the_address_shortcut_answers_the_same_for_known_and_unknown(
        self, simulated, user, next_url
    ):
        known = login.send_login_link_to_address("ada@example.com", next_url=next_url)
        unknown = login.send_login_link_to_address("nobody@example.com", next_url=next_url)

        assert known == unknown
        assert known["error_code"] == "invalid_request"
        assert not LoginToken.objects.exists()

    @pytest.mark.urls(__name__)
    def test_the_form_answers_the_same_for_known_and_unknown(self, simulated, user, client):
        known = client.post("/ask/", {"email": "ada@example.com", "next": "/a\x00b"})
        unknown = client.post("/ask/", {"email": "nobody@example.com", "next": "/a\x00b"})

        assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
        assert not LoginToken.objects.exists()

    def test_send_login_code_email_never_raises(self, simulated, user, monkeypatch, caplog):
        def refuse(**fields):
            raise DataError("the database refused the row")

        monkeypatch.setattr(LoginToken.objects, "create", refuse)
        caplog.set_level(logging.ERROR)

        assert shortcuts.send_login_code_email(user, "/inbox/") is None
        assert "DataError" in caplog.text


# -- 4. the same work for known and unknown addresses -------------------------------------


class CacheOperations:
    """Wraps the cache patchbay uses and records the name of each operation."""

    NAMES = ("add", "get", "set", "incr", "decr", "delete", "get_many", "set_many", "touch")

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        cache = caches["default"]
        for name in self.NAMES:
            monkeypatch.setattr(cache, name, self._counting(name, getattr(cache, name)))

    def _counting(self, name, method):
        def counted(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


def _shape(sql: str) -> str:
    """A query without its values, to compare two requests' queries."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


class TestEqualWork:
    def _request_work(self, monkeypatch, email, ip):
        request = RequestFactory().post("/", REMOTE_ADDR=ip)
        from patchbay.core import deferred

        operations = CacheOperations(monkeypatch)
        with deferred.after_response_scope():
            with CaptureQueriesContext(connection) as queries:
                result = login.send_login_link_to_address(
                    email, next_url="/inbox/", request=request
                )
            cache_calls = list(operations.calls)
        return result, [_shape(query["sql"]) for query in queries], cache_calls

    def test_known_and_unknown_addresses_cost_the_request_the_same(
        self, simulated, user, monkeypatch
    ):
        known = self._request_work(monkeypatch, "ada@example.com", "203.0.113.1")
        sent_to_known = len(sent_emails())
        unknown = self._request_work(monkeypatch, "nobody@example.com", "203.0.113.2")

        assert known[0] == unknown[0]
        assert known[0]["success"] is True
        assert known[1] == unknown[1]  # the same queries (none: the lookup runs after)
        assert known[2] == unknown[2]  # the same cache operations (the send limits)
        assert known[2]  # the limits are counted while the request is handled
        assert sent_to_known == 1
        assert len(sent_emails()) == 1  # nothing for the unknown address

    def test_the_address_matches_in_any_case_and_only_active_users(
        self, simulated, user, django_user_model
    ):
        django_user_model.objects.create_user("old", "old@example.com", "pw", is_active=False)

        assert login.send_login_link_to_address("ADA@Example.com")["success"] is True
        assert login.send_login_link_to_address("old@example.com")["success"] is True

        assert [email.data["payload"]["email"] for email in sent_emails()] == ["ada@example.com"]

    def test_the_limit_per_address_counts_unknown_addresses_too(self, simulated, user):
        simulated.PATCHBAY_MAGIC_LINK_SENDS_PER_USER = 2
        for address in ("ada@example.com", "nobody@example.com"):
            results = [login.send_login_link_to_address(address) for _ in range(3)]
            assert [r["success"] for r in results] == [True, True, False]
            assert results[-1]["error_code"] == "rate_limited"
        assert len(sent_emails()) == 2

    @pytest.mark.parametrize("email", ["", "not-an-address", "a@b.c\x00", "x" * 300, 42, None])
    def test_malformed_addresses_are_refused_alike(self, simulated, email):
        result = login.send_login_link_to_address(email)
        assert result["success"] is False
        assert result["error_code"] == "invalid_request"

    @pytest.mark.urls(__name__)
    def test_the_send_happens_after_the_response(self, simulated, user, client):
        response = client.post("/ask/", {"email": "ada@example.com", "next": "/inbox/"})

        assert response.content == b"True"  # the view saw nothing sent
        assert len(sent_emails()) == 1
        assert LoginToken.objects.get().next_url == "/inbox/"
        assert links()[0].startswith("http://testserver/integrations/login/")

    @pytest.mark.urls(__name__)
    def test_send_login_code_email_sends_after_the_response_too(self, simulated, user, client):
        response = client.post("/ask-by-user/", {"email": "ada@example.com"})

        assert response.status_code == 200
        assert len(sent_emails()) == 1
        assert LoginToken.objects.get().next_url == "/inbox/"


# -- 5. scanners and other sites --------------------------------------------------------------


class TestOpeningALink:
    def test_get_shows_a_page_and_uses_nothing_by_default(self, simulated, user, client):
        login.send_login_link(user, "/inbox/")
        [link] = links()

        for _ in range(3):  # a mail scanner, a link preview, the person
            response = client.get(link)
            assert response.status_code == 200
        assert signed_in_user_id(client) is None
        assert LoginToken.objects.get().used_at is None

    def test_a_get_from_another_site_signs_nobody_in(self, simulated, user):
        # Login CSRF: a page elsewhere makes the visitor's browser open the attacker's link.
        login.send_login_link(user)
        [link] = links()
        victim = Client(enforce_csrf_checks=True)

        assert victim.get(link, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
        assert victim.post(link).status_code == 403  # no CSRF token from the page
        assert signed_in_user_id(victim) is None
        assert LoginToken.objects.get().used_at is None

    def test_the_page_submits_itself_with_a_script_file_and_offers_a_button(self, simulated, user):
        login.send_login_link(user, "/inbox/")
        [link] = links()
        browser = Client(enforce_csrf_checks=True)

        page = browser.get(link)
        html = page.content.decode()

        form = re.search(r"<form [^>]*>", html)[0]
        assert 'method="post"' in form
        assert "data-patchbay-auto-submit" in form
        assert re.search(r"<button[^>]*type=\"submit\"", html)
        [script] = re.findall(r"<script\b[^>]*>", html)
        source = re.fullmatch(r'<script src="([^"]+)" defer>', script)[1]
        assert urljoin(link, source) == reverse("patchbay:magic-link-script")
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html)  # no inline script
        assert not re.search(r"\son\w+=", html)  # no inline event handlers
        assert page["X-Frame-Options"] == "DENY"  # a hidden frame cannot click it
        assert page["Referrer-Policy"] == "same-origin"

        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
        response = browser.post(urlsplit(link).path, {"csrfmiddlewaretoken": csrf})
        assert response["Location"] == "/inbox/"
        assert signed_in_user_id(browser) == str(user.pk)

    def test_the_script_submits_the_form(self, client):
        response = client.get(reverse("patchbay:magic-link-script"))

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert response["X-Content-Type-Options"] == "nosniff"
        script = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"data-patchbay-auto-submit" in script
        assert b".submit()" in script
        assert b"window.top" in script  # never from inside a frame

    def test_without_auto_submit_the_page_only_has_the_button(self, simulated, user, client):
        simulated.PATCHBAY_MAGIC_LINK_AUTO_SUBMIT = False
        login.send_login_link(user)
        [link] = links()

        html = client.get(link).content.decode()

        assert "<script" not in html
        assert "data-patchbay-auto-submit" not in html
        assert "<button" in html

    def test_head_never_uses_the_link(self, simulated, user, client):
        login.send_login_link(user)
        [link] = links()
        assert client.head(link).status_code == 200
        assert LoginToken.objects.get().used_at is None

    def test_without_the_confirm_step_get_signs_in_as_before(self, simulated, user, client):
        simulated.PATCHBAY_MAGIC_LINK_CONFIRM = False
        login.send_login_link(user)
        [link] = links()

        assert client.get(link).status_code == 302
        assert signed_in_user_id(client) == str(user.pk)


class TestNewerLinks:
    def test_a_new_link_invalidates_the_older_ones_by_default(self, simulated, user):
        for _ in range(3):
            login.send_login_link(user)
        first, second, third = links()

        assert Client().post(first).status_code == 400
        assert Client().post(second).status_code == 400
        assert Client().post(third).status_code == 302
        assert sorted(row.state() for row in LoginToken.objects.all()) == [
            "expired",
            "expired",
            "used",
        ]

    def test_other_users_links_stay_valid(self, simulated, user, django_user_model):
        bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
        login.send_login_link(user)
        login.send_login_link(bob)
        ada_link, bob_link = links()

        assert Client().post(ada_link).status_code == 302
        assert Client().post(bob_link).status_code == 302

    def test_a_failed_send_keeps_the_older_link(self, simulated, user):
        login.send_login_link(user)
        [link] = links()
        simulated.PATCHBAY_MAGIC_LINK_SENDS_PER_USER = 1

        assert login.send_login_link(user)["error_code"] == "rate_limited"
        assert Client().post(link).status_code == 302

    def test_the_setting_keeps_older_links(self, simulated, user):
        simulated.PATCHBAY_MAGIC_LINK_REPLACES_OLDER = False
        login.send_login_link(user)
        login.send_login_link(user)

        assert [Client().post(link).status_code for link in links()] == [302, 302]
