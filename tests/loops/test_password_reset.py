"""send_password_reset_to_address: the same request for every address, the email after it."""

from __future__ import annotations

import pytest
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import PasswordResetConfirmView
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import path

from patchbay.core import deferred
from patchbay.core.simulation import outbox
from patchbay.loops import shortcuts
from tests.loops.helpers import TEMPLATES

pytestmark = pytest.mark.django_db


@login_not_required
def reset_view(request):
    sent_before = len(reset_urls())
    shortcuts.send_password_reset_to_address(request.POST["email"], request=request)
    return HttpResponse(str(len(reset_urls()) - sent_before))


urlpatterns = [
    path("reset/", reset_view),
    path(
        "reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]


@pytest.fixture
def simulated(settings):
    settings.PATCHBAY_SIMULATE = True
    settings.LOOPS_TRANSACTIONAL_IDS = TEMPLATES


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


def reset_urls():
    emails = outbox.filter(provider="loops", operation="transactional_email")
    return [email.data["payload"]["dataVariables"]["resetUrl"] for email in emails]


@pytest.mark.urls(__name__)
def test_the_email_goes_out_after_the_response_with_a_working_link(simulated, user, client):
    response = client.post("/reset/", {"email": "ADA@example.com"})
    assert response.content == b"0"  # nothing sent while the view ran
    (url,) = reset_urls()
    assert url.startswith("http://testserver/reset/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert default_token_generator.check_token(user, token)


@pytest.mark.urls(__name__)
def test_known_and_unknown_addresses_cost_the_request_the_same(simulated, user):
    def request_queries(email):
        with deferred.after_response_scope(), CaptureQueriesContext(connection) as queries:
            shortcuts.send_password_reset_to_address(email)
            during = len(queries)
        return during

    assert request_queries("ada@example.com") == request_queries("nobody@example.com") == 0
    assert len(reset_urls()) == 1


@pytest.mark.parametrize("email", [None, "", "not an address", "a\x00@example.com", 42])
def test_bad_input_sends_nothing_and_never_raises(simulated, user, email):
    assert shortcuts.send_password_reset_to_address(email) is None
    assert reset_urls() == []
