"""Who may call the API: staff by session (CSRF on unsafe methods) or by bearer token."""

from __future__ import annotations

import pytest
from django.test import Client

from patchbay.models import APIToken, ExternalService
from patchbay.models.api import token_digest
from tests.api.conftest import API, grant

pytestmark = pytest.mark.django_db


def test_no_credentials_is_a_401_with_a_bearer_challenge(client):
    response = client.get(f"{API}/services/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="patchbay"'
    assert "Authentication required" in response.json()["error"]


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer ", "Basic dXNlcjpwdw==", "Token x", "Bearer a\x00b"]
)
def test_an_invalid_authorization_header_is_a_401(client, token, header):
    response = client.get(f"{API}/services/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert "error" in response.json()


def test_a_token_acts_as_its_user_and_records_its_use(api, token):
    response = api.get(f"{API}/services/")

    assert response.status_code == 200
    assert APIToken.objects.get(digest=token_digest(token)).last_used_at is not None


def test_only_the_tokens_digest_is_stored(token):
    row = APIToken.objects.get()
    assert row.digest == token_digest(token) != token
    assert token not in repr(row)
    assert token not in str(row)
    assert str(row).endswith(f"…{token[-4:]})")


def test_a_token_of_an_inactive_user_is_refused(client, admin_user, token):
    admin_user.is_active = False
    admin_user.save()

    response = client.get(f"{API}/services/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401


def test_a_token_of_a_user_who_is_no_longer_staff_is_a_403(client, admin_user, token):
    admin_user.is_staff = False
    admin_user.save()

    response = client.get(f"{API}/services/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 403
    assert response.json() == {"error": "The API is for staff users only."}


def test_a_signed_in_user_who_is_not_staff_is_a_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("visitor"))

    assert client.get(f"{API}/services/").status_code == 403


def test_staff_without_the_models_permission_is_a_403_naming_it(client, staff):
    client.force_login(staff)

    response = client.get(f"{API}/logs/")

    assert response.status_code == 403
    assert response.json() == {"error": "Permission required: patchbay.view_integrationlog."}


def test_each_endpoint_requires_its_own_permissions(client, staff):
    grant(staff, "view_externalservice")
    client.force_login(staff)

    assert client.get(f"{API}/services/").status_code == 200
    assert client.get(f"{API}/webhooks/events/").status_code == 403
    # Changing needs change_externalservice: viewing is not enough.
    response = client.post(f"{API}/services/stripe/toggle/")
    assert response.status_code == 403
    assert "patchbay.change_externalservice" in response.json()["error"]


def test_head_needs_the_permissions_of_get(client, staff):
    client.force_login(staff)

    assert client.head(f"{API}/logs/").status_code == 403
    grant(staff, "view_integrationlog")
    assert client.head(f"{API}/logs/").status_code == 200


def test_session_requests_with_unsafe_methods_must_pass_the_csrf_check(staff):
    grant(staff, "view_externalservice", "change_externalservice")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)

    refused = browser.post(f"{API}/services/stripe/toggle/")
    assert refused.status_code == 403
    assert refused.json()["error"].startswith("CSRF check failed")
    assert ExternalService.objects.get(provider="stripe").enabled is True

    # Reading needs no CSRF token; with the cookie and its header, the change goes through.
    assert browser.get(f"{API}/services/").status_code == 200
    secret = "k" * 32  # the cookie a page of the site would have set
    browser.cookies["csrftoken"] = secret
    accepted = browser.post(f"{API}/services/stripe/toggle/", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 200
    assert accepted.json()["enabled"] is False


def test_token_requests_need_no_csrf_token(token):
    machine = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert machine.post(f"{API}/services/stripe/toggle/").status_code == 200


def test_a_method_the_endpoint_lacks_is_a_405_with_allow(api):
    response = api.delete(f"{API}/logs/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert "DELETE is not allowed" in response.json()["error"]


def test_the_command_issues_a_token_that_authenticates(admin_user, client, capsys):
    from django.core.management import call_command

    call_command("patchbay_api_token", admin_user.username, "--name", "ci")
    token = capsys.readouterr().out.strip()

    assert token.startswith("pbt_")
    assert client.get(f"{API}/services/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert APIToken.objects.get().name == "ci"

    call_command("patchbay_api_token", admin_user.username, "--revoke")
    assert client.get(f"{API}/services/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_the_command_refuses_a_user_who_is_not_staff(django_user_model):
    from django.core.management import CommandError, call_command

    django_user_model.objects.create_user("visitor")

    with pytest.raises(CommandError, match="not active staff"):
        call_command("patchbay_api_token", "visitor")
    with pytest.raises(CommandError, match="No user"):
        call_command("patchbay_api_token", "nobody")
