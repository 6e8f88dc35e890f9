"""The example's Loops demos, end to end in simulation: sign in with a link, reset a password."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.test_example_project import ROOT, run_example, squeeze

FLOW = textwrap.dedent(
    f"""
    import json, re, sys
    from urllib.parse import urlsplit
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client, override_settings

    from patchbay.core.simulation import outbox

    call_command("migrate", verbosity=0)
    User.objects.create_user("ada", "Ada@Example.com", "old-password-1")
    seen = {{}}

    def page(response):
        return {{"status": response.status_code, "html": response.content.decode()}}

    def local(url):
        parts = urlsplit(url)
        return parts.path + (f"?{{parts.query}}" if parts.query else "")

    def emails(template_id):
        return [
            call for call in outbox.filter(provider="loops", operation="transactional_email")
            if call.data["payload"]["transactionalId"] == template_id
        ]

    # -- sign in with a link --------------------------------------------------------------
    browser = Client()
    seen["sign_in"] = page(browser.get("/accounts/sign-in/?next=/messaging/verify/"))
    seen["sign_in_evil_next"] = page(browser.get("/accounts/sign-in/?next=https://evil.com/"))
    asked = browser.post(
        "/accounts/sign-in/", {{"email": "ada@example.com", "next": "/messaging/verify/"}}
    )
    unknown = browser.post("/accounts/sign-in/", {{"email": "nobody@example.com"}})
    seen["sign_in_answers"] = [asked.status_code, asked["Location"], unknown["Location"]]
    seen["sign_in_sent"] = page(browser.get(asked["Location"]))
    seen["login_emails"] = len(emails("sim_login_code"))
    seen["outbox"] = page(browser.get("/accounts/outbox/"))
    link = re.search(r'href="([^"]*/integrations/login/[^"]+)"', seen["outbox"]["html"])[1]
    seen["confirm_page"] = page(browser.get(local(link)))  # a scanner's fetch uses nothing
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', seen["confirm_page"]["html"])
    opened = browser.post(local(link), {{"csrfmiddlewaretoken": csrf[1]}})
    seen["opened"] = [opened.status_code, opened.get("Location")]
    seen["signed_in"] = page(browser.get("/accounts/sign-in/"))
    stranger = Client()
    seen["reused"] = page(stranger.get(local(link)))
    seen["stranger"] = page(stranger.get("/accounts/sign-in/"))
    hostile = [
        browser.post("/accounts/sign-in/", {{"email": email, "next": "/a\\x00b"}})
        for email in ("ada@example.com", "nobody@example.com")
    ]
    seen["hostile_next"] = [[answer.status_code, answer.get("Location")] for answer in hostile]

    # -- forgot password ------------------------------------------------------------------
    browser = Client()
    seen["reset"] = page(browser.get("/accounts/password-reset/"))
    asked = browser.post("/accounts/password-reset/", {{"email": "ADA@example.com"}})
    unknown = browser.post("/accounts/password-reset/", {{"email": "nobody@example.com"}})
    seen["reset_answers"] = [asked.status_code, asked["Location"], unknown["Location"]]
    seen["reset_sent"] = page(browser.get(asked["Location"]))
    seen["reset_emails"] = [
        [call.data["payload"]["email"], sorted(call.data["payload"]["dataVariables"])]
        for call in emails("sim_password_reset")
    ]
    outbox_html = page(browser.get("/accounts/outbox/"))["html"]
    reset_link = re.search(r'href="([^"]*/accounts/reset/[^"]+)"', outbox_html)[1]
    confirm = browser.get(local(reset_link))
    seen["confirm"] = [confirm.status_code, confirm.get("Location")]
    seen["form"] = page(browser.get(confirm["Location"]))
    weak_password = {{"new_password1": "12345678", "new_password2": "12345678"}}
    weak = browser.post(confirm["Location"], weak_password)
    seen["weak_reset"] = page(weak)
    new_password = {{"new_password1": "a-new-Passw0rd!", "new_password2": "a-new-Passw0rd!"}}
    done = browser.post(confirm["Location"], new_password)
    seen["done"] = [done.status_code, done.get("Location")]
    seen["done_page"] = page(browser.get(done["Location"]))
    seen["login_with_new"] = Client().login(username="ada", password="a-new-Passw0rd!")
    seen["login_with_old"] = Client().login(username="ada", password="old-password-1")
    seen["reset_reused"] = page(Client().get(local(reset_link), follow=True))

    # -- password sign-in, sign-out and sign-up ----------------------------------------------
    from django.conf import settings
    from django.shortcuts import resolve_url
    from example.views import DEMOS
    from django.urls import reverse

    seen["login_url"] = resolve_url(settings.LOGIN_URL)
    seen["validators"] = [
        entry["NAME"].rsplit(".", 1)[1] for entry in settings.AUTH_PASSWORD_VALIDATORS
    ]
    anonymous = Client()
    seen["home_anonymous"] = page(anonymous.get("/"))
    seen["demo_access"] = [
        [demo.access, reverse(demo.url_name), anonymous.get(reverse(demo.url_name)).get("Location")]
        for demo in DEMOS
    ]
    seen["login_page"] = page(anonymous.get("/accounts/login/?next=/billing/"))
    credentials = {{"username": "ada", "next": "/billing/"}}
    wrong = anonymous.post("/accounts/login/", {{**credentials, "password": "nope"}})
    seen["login_wrong"] = page(wrong)
    right = anonymous.post("/accounts/login/", {{**credentials, "password": "a-new-Passw0rd!"}})
    seen["login_right"] = [right.status_code, right.get("Location")]
    seen["home_signed_in"] = page(anonymous.get("/"))
    seen["logout_get"] = anonymous.get("/accounts/logout/").status_code
    out = anonymous.post("/accounts/logout/")
    seen["logout"] = [out.status_code, out.get("Location")]
    seen["home_signed_out"] = page(anonymous.get(out["Location"]))
    newcomer = Client()
    seen["sign_up_page"] = page(newcomer.get("/accounts/sign-up/"))
    account = {{"username": "grace", "email": "grace@example.com"}}
    weak_password = {{"password1": "grace123", "password2": "grace123"}}
    seen["sign_up_weak"] = page(newcomer.post("/accounts/sign-up/", {{**account, **weak_password}}))
    seen["sign_up_weak_made"] = User.objects.filter(username="grace").exists()
    made = newcomer.post(
        "/accounts/sign-up/",
        {{**account, "password1": "orbit-Lantern-42", "password2": "orbit-Lantern-42",
          "next": "/files/"}},
    )
    seen["sign_up"] = [made.status_code, made.get("Location")]
    grace = User.objects.get(username="grace")
    seen["grace"] = [grace.email, grace.is_staff, grace.is_superuser]
    seen["grace_files"] = newcomer.get("/files/").status_code
    seen["sign_up_evil_next"] = newcomer.post(
        "/accounts/sign-up/",
        {{"username": "eve", "email": "eve@example.com", "password1": "orbit-Lantern-43",
          "password2": "orbit-Lantern-43", "next": "https://evil.com/"}},
    ).get("Location")

    with override_settings(PATCHBAY_SIMULATE=False):
        seen["live_outbox"] = browser.get("/accounts/outbox/").status_code
        seen["live_reset"] = page(browser.get("/accounts/password-reset/"))
    print(json.dumps(seen))
    """
)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("accounts") / "db.sqlite3"
    completed = run_example(["-c", FLOW], database)
    assert completed.returncode == 0, completed.stderr
    flow: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return flow


def test_the_sign_in_page_keeps_only_a_safe_next_url(seen):
    assert seen["sign_in"]["status"] == 200
    assert 'name="next" value="/messaging/verify/"' in seen["sign_in"]["html"]
    assert "evil.com" not in seen["sign_in_evil_next"]["html"]
    assert 'name="next" value="/accounts/sign-in/"' in seen["sign_in_evil_next"]["html"]


def test_asking_for_a_link_answers_the_same_for_unknown_addresses(seen):
    status, location, unknown_location = seen["sign_in_answers"]
    assert status == 302
    assert location == unknown_location == "/accounts/sign-in/?sent=1"
    assert "a sign-in link is on its way" in seen["sign_in_sent"]["html"]
    assert seen["login_emails"] == 1


def test_a_hostile_next_gets_the_same_answer_for_any_address(seen):
    known, unknown = seen["hostile_next"]
    assert known == unknown
    assert known[0] in (200, 302)


def test_opening_the_link_shows_a_page_that_signs_in_with_one_post(seen):
    assert seen["confirm_page"]["status"] == 200
    assert "data-patchbay-auto-submit" in seen["confirm_page"]["html"]
    assert "<button" in seen["confirm_page"]["html"]


def test_the_link_signs_in_and_redirects(seen):
    assert seen["opened"] == [302, "/messaging/verify/"]
    assert "You are signed in as <strong>ada</strong>" in seen["signed_in"]["html"]


def test_the_link_works_once(seen):
    assert seen["reused"]["status"] == 400
    assert "This sign-in link does not work" in seen["reused"]["html"]
    assert "You are signed in" not in seen["stranger"]["html"]


def test_the_dev_outbox_lists_emails_with_clickable_links(seen):
    html = squeeze(seen["outbox"]["html"])
    assert seen["outbox"]["status"] == 200
    assert "<code>sim_login_code</code>" in html
    assert "Ada@example.com" in html
    assert "<code>expiresInMinutes</code>: 15" in html
    assert "<code>loginUrl</code>: <a href=" in html


def test_the_pages_link_the_outbox_while_simulating(seen):
    for name in ("sign_in", "reset", "reset_sent"):
        assert 'href="/accounts/outbox/"' in seen[name]["html"]
    assert seen["live_outbox"] == 404
    assert seen["live_reset"]["status"] == 200
    assert "/accounts/outbox/" not in seen["live_reset"]["html"]


def test_forgot_password_answers_the_same_for_unknown_addresses(seen):
    status, location, unknown_location = seen["reset_answers"]
    assert status == 302
    assert location == unknown_location == "/accounts/password-reset/sent/"
    assert "If an account uses that address" in seen["reset_sent"]["html"]
    assert seen["reset_emails"] == [["Ada@example.com", ["name", "resetUrl"]]]


def test_the_reset_link_sets_a_new_password(seen):
    status, location = seen["confirm"]
    assert status == 302
    assert location.endswith("/set-password/")
    assert 'name="new_password1"' in seen["form"]["html"]
    assert seen["done"] == [302, "/accounts/reset/done/"]
    assert "Your password is set" in seen["done_page"]["html"]
    assert seen["login_with_new"] is True
    assert seen["login_with_old"] is False


def test_the_reset_link_works_once(seen):
    assert "This reset link does not work" in seen["reset_reused"]["html"]


def test_a_weak_new_password_is_refused_with_the_validators_message(seen):
    html = squeeze(seen["weak_reset"]["html"])
    assert seen["weak_reset"]["status"] == 200
    assert "This password is too common." in html
    assert "This password is entirely numeric." in html
    assert seen["login_with_new"] is True  # the weak one was not set: the good one was


def test_after_a_reset_the_user_is_sent_to_the_examples_sign_in(seen):
    html = seen["done_page"]["html"]
    assert 'href="/accounts/login/"' in html
    assert "/admin/" not in html.split("<main>", 1)[1]


def test_a_used_sign_in_link_links_back_to_signing_in(seen):
    html = seen["reused"]["html"].split("<main>", 1)[1]
    assert 'href="/accounts/sign-in/"' in html
    assert 'href="/accounts/login/"' in html


def test_the_example_signs_in_on_its_own_page_with_the_standard_validators(seen):
    assert seen["login_url"] == "/accounts/login/"
    assert seen["validators"] == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


def test_the_sign_in_page_links_the_other_ways_in(seen):
    html = squeeze(seen["login_page"]["html"])
    assert seen["login_page"]["status"] == 200
    assert 'name="next" value="/billing/"' in html
    assert 'href="/accounts/sign-in/?next=/billing/"' in html
    assert 'href="/accounts/password-reset/"' in html
    assert 'href="/accounts/sign-up/?next=/billing/"' in html


def test_a_non_staff_user_signs_in_with_a_password_and_out_with_a_post(seen):
    assert seen["login_wrong"]["status"] == 200
    assert "Please enter a correct username and password" in seen["login_wrong"]["html"]
    assert seen["login_right"] == [302, "/billing/"]
    nav = squeeze(seen["home_signed_in"]["html"])
    assert "Signed in as <strong>ada</strong>" in nav
    assert '<form class="sign-out" method="post" action="/accounts/logout/">' in nav
    assert seen["logout_get"] == 405  # a link or a prefetch never signs out
    assert seen["logout"] == [302, "/"]
    signed_out = squeeze(seen["home_signed_out"]["html"])
    assert '<li class="info">You are signed out.</li>' in signed_out
    assert "Signed in as" not in signed_out
    assert '<a href="/accounts/login/">Sign in</a>' in signed_out


def test_login_required_demos_redirect_to_the_examples_sign_in_and_say_so(seen):
    html = squeeze(seen["home_anonymous"]["html"])
    for access, url, location in seen["demo_access"]:
        if access == "sign-in required":
            assert location == f"/accounts/login/?next={url}"
        elif access == "staff only":
            assert location == f"/admin/login/?next={url}"
        else:
            assert location is None, url
        item = html.split(f'<a href="{url}">', 1)[1].split('<span class="muted">', 1)[0]
        if access:
            assert f'<span class="badge access">{access}</span>' in item, url
        else:
            assert "badge" not in item, url
    assert [row[0] for row in seen["demo_access"]].count("sign-in required") >= 4


def test_a_newcomer_signs_up_a_non_staff_account_refused_a_weak_password(seen):
    assert seen["sign_up_page"]["status"] == 200
    for field in ("username", "email", "password1", "password2"):
        assert f'<label for="id_{field}">' in seen["sign_up_page"]["html"]
    weak = squeeze(seen["sign_up_weak"]["html"])
    assert "The password is too similar to the username." in weak
    assert seen["sign_up_weak_made"] is False
    assert seen["sign_up"] == [302, "/files/"]
    assert seen["grace"] == ["grace@example.com", False, False]
    assert seen["grace_files"] == 200
    assert seen["sign_up_evil_next"] == "/"
