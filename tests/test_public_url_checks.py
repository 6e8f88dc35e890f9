"""Live services that need ``PATCHBAY_PUBLIC_URL`` to build the URLs they send out."""

from __future__ import annotations

import json

import pytest
import responses
from django.test import RequestFactory

from patchbay import checks
from patchbay.loops import login
from patchbay.models import LoginToken
from tests.loops.helpers import API as LOOPS_API
from tests.loops.helpers import TEMPLATES

SET_PUBLIC_URL = 'PATCHBAY_PUBLIC_URL = "https://example.com"'


@pytest.fixture(autouse=True)
def _live(settings):
    settings.PATCHBAY_SIMULATE = False


def by_id(check_id):
    return [message for message in checks.check_public_url_needed() if message.id == check_id]


# -- Stripe Checkout ----------------------------------------------------------------------


def test_e021_live_checkout_with_relative_urls(settings):
    assert by_id("patchbay.E021") == []  # Stripe not configured
    settings.STRIPE_API_KEY = "sk_live_x"

    (message,) = by_id("patchbay.E021")
    assert "STRIPE_CHECKOUT_SUCCESS_URL" in message.msg
    assert "STRIPE_CHECKOUT_CANCEL_URL" in message.msg
    assert SET_PUBLIC_URL in message.hint


def test_e021_not_with_a_public_url_or_absolute_urls(settings):
    settings.STRIPE_API_KEY = "sk_live_x"
    settings.PATCHBAY_PUBLIC_URL = "https://example.com"
    assert by_id("patchbay.E021") == []

    settings.PATCHBAY_PUBLIC_URL = ""
    settings.STRIPE_CHECKOUT_SUCCESS_URL = "https://example.com/thanks/"
    assert "STRIPE_CHECKOUT_CANCEL_URL" in by_id("patchbay.E021")[0].msg
    assert "STRIPE_CHECKOUT_SUCCESS_URL" not in by_id("patchbay.E021")[0].msg
    settings.STRIPE_CHECKOUT_CANCEL_URL = "https://example.com/pricing/"
    assert by_id("patchbay.E021") == []


@pytest.mark.parametrize("switch", [False, "", 0])
def test_e021_not_when_the_switch_is_any_false_value(settings, switch):
    # The spec computes STRIPE_ENABLED as `... or (KEY and SECRET)`, which may be "".
    settings.STRIPE_API_KEY = "sk_live_x"
    settings.STRIPE_ENABLED = switch
    assert by_id("patchbay.E021") == []


def test_e021_when_the_switch_is_any_true_value(settings):
    settings.STRIPE_ENABLED = "whsec_from_the_spec_expression"
    assert len(by_id("patchbay.E021")) == 1


def test_e021_neither_simulating_nor_disabled(settings):
    settings.STRIPE_API_KEY = "sk_live_x"
    settings.STRIPE_ENABLED = False
    assert by_id("patchbay.E021") == []
    settings.STRIPE_ENABLED = True
    settings.PATCHBAY_SIMULATE = True
    assert by_id("patchbay.E021") == []


# -- Twilio status callbacks --------------------------------------------------------------


def test_w010_live_twilio_without_status_callbacks(settings):
    assert by_id("patchbay.W010") == []
    settings.TWILIO_ACCOUNT_SID = "AC" + "a" * 32
    settings.TWILIO_AUTH_TOKEN = "token"

    (message,) = by_id("patchbay.W010")
    assert SET_PUBLIC_URL in message.hint
    settings.PATCHBAY_PUBLIC_URL = "https://example.com"
    assert by_id("patchbay.W010") == []


# -- Sign-in links ------------------------------------------------------------------------


def test_e022_live_magic_links_without_a_public_url(settings):
    settings.LOOPS_API_KEY = "loops-key"
    assert by_id("patchbay.E022") == []  # no login_code template: E009's business
    settings.LOOPS_TRANSACTIONAL_IDS = TEMPLATES

    (message,) = by_id("patchbay.E022")
    assert SET_PUBLIC_URL in message.hint
    settings.PATCHBAY_PUBLIC_URL = "https://example.com"
    assert by_id("patchbay.E022") == []


def test_the_checks_are_registered(settings):
    from django.core.checks import run_checks

    settings.STRIPE_API_KEY = "sk_live_x"
    assert "patchbay.E021" in [message.id for message in run_checks(tags=["patchbay"])]


@pytest.mark.django_db
class TestLiveMagicLink:
    @pytest.fixture
    def user(self, django_user_model):
        return django_user_model.objects.create_user("ada", "ada@example.com", "pw")

    @pytest.fixture(autouse=True)
    def _loops(self, settings):
        settings.LOOPS_API_KEY = "loops-key"
        settings.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
        settings.LOOPS_RETRY_BACKOFF = 0

    @responses.activate
    def test_no_bare_path_is_emailed(self, user):
        result = login.send_login_link(user)

        assert (result["success"], result["error_code"]) == (False, "no_public_url")
        assert "PATCHBAY_PUBLIC_URL" in result["error"]
        assert len(responses.calls) == 0
        assert not LoginToken.objects.exists()

    @responses.activate
    def test_the_request_makes_the_link_absolute(self, user):
        responses.post(f"{LOOPS_API}/transactional", json={"success": True})
        request = RequestFactory().post("/login/", secure=True, HTTP_HOST="localhost")

        assert login.send_login_link(user, request=request)["success"] is True
        link = json.loads(responses.calls[0].request.body)["dataVariables"]["loginUrl"]
        assert link.startswith("https://localhost/integrations/login/")
