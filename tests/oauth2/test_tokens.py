"""OAuth2 clients against the test authorization server: bearer, refresh, rotation, failures."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone

from patchbay.models import ExternalService, IntegrationLog, OAuth2Token
from patchbay.oauth2.tokens import delete_token, get_token, refresh, save_token
from tests.oauth2.clients import AcmeOAuthClient, AcmePerUserClient
from tests.oauth2.conftest import connect

pytestmark = pytest.mark.django_db


def bearer(token):
    return f"Bearer {token.access_token}"


def stored():
    return OAuth2Token.objects.get(provider="acme_oauth", user__isnull=True)


def test_every_call_sends_the_stored_bearer_token(server):
    token = connect(server, AcmeOAuthClient())
    client = AcmeOAuthClient()
    assert client.me() == {"success": True, "user": "alice", "scope": "read offline_access"}
    assert client.me()["success"]
    assert AcmeOAuthClient().me()["success"]
    assert server.api_authorizations == [bearer(token)] * 3
    assert server.refresh_requests == 0


def test_a_token_about_to_expire_is_refreshed_before_the_call(server):
    server.set(expires_in=30)  # within the default skew of 60 s
    old = connect(server, AcmeOAuthClient())
    server.set(expires_in=3600)
    client = AcmeOAuthClient()
    assert client.me()["success"]
    assert client.me()["success"]
    new = stored()
    assert server.refresh_requests == 1
    assert new.access_token != old.access_token
    assert server.api_authorizations == [bearer(new)] * 2
    assert new.refreshed_at is not None
    assert new.expires_at > timezone.now() + timedelta(seconds=3500)
    assert new.scopes == ["read", "offline_access"]  # kept: the refresh answer has them too


def test_the_skew_is_a_setting(server, settings):
    settings.PATCHBAY_OAUTH2_REFRESH_SKEW = 10
    server.set(expires_in=30)
    token = connect(server, AcmeOAuthClient())
    assert AcmeOAuthClient().me()["success"]
    assert server.refresh_requests == 0
    assert server.api_authorizations == [bearer(token)]


def test_an_expired_token_is_refreshed_even_without_skew(server, settings):
    settings.PATCHBAY_OAUTH2_REFRESH_SKEW = 0
    connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert AcmeOAuthClient().me()["success"]
    assert server.refresh_requests == 1


def test_a_rotated_refresh_token_replaces_the_old_one(server):
    old = connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    assert AcmeOAuthClient().me()["success"]
    new = stored()
    assert new.refresh_token != old.refresh_token
    assert server.live_token(new.access_token) is not None
    # The next refresh uses the new refresh token: the old one is dead at the provider.
    OAuth2Token.objects.update(expires_at=timezone.now())
    assert AcmeOAuthClient().me()["success"]
    assert server.refresh_requests == 2
    assert stored().status == OAuth2Token.Status.ACTIVE


def test_without_rotation_the_refresh_token_is_kept(server):
    server.set(rotate_refresh_tokens=False)
    old = connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    assert AcmeOAuthClient().me()["success"]
    new = stored()
    assert new.access_token != old.access_token
    assert new.refresh_token == old.refresh_token


def test_invalid_grant_requires_reauthorization_and_counts_against_health(server):
    connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    server.set(refuse_next_refresh=True)
    result = AcmeOAuthClient().me()
    assert result["success"] is False
    assert result["error_code"] == "reauthorization_required"
    assert "Reconnect" in result["error"]
    assert result["retryable"] is False
    token = stored()
    assert token.status == OAuth2Token.Status.REAUTHORIZATION_REQUIRED
    assert "invalid_grant" in token.last_error
    service = ExternalService.objects.get(provider="acme_oauth")
    assert service.consecutive_failures == 1
    assert service.health_status == ExternalService.HealthStatus.DEGRADED
    assert service.last_error == result["error"]
    assert server.api_requests == 0

    # Until it is connected again, calls fail at once, without asking the provider.
    assert AcmeOAuthClient().me()["error_code"] == "reauthorization_required"
    assert server.refresh_requests == 1
    connect(server, AcmeOAuthClient())
    assert stored().status == OAuth2Token.Status.ACTIVE
    assert AcmeOAuthClient().me()["success"]


def test_a_token_without_refresh_token_requires_reauthorization_once_expired(server):
    connect(server, AcmeOAuthClient())
    token = stored()
    token.tokens = {"access_token": token.access_token}
    token.expires_at = timezone.now()
    token.save()
    result = AcmeOAuthClient().me()
    assert result["error_code"] == "reauthorization_required"
    assert server.refresh_requests == 0
    assert stored().needs_reauthorization()


def test_a_401_gets_one_refresh_and_one_retry(server):
    old = connect(server, AcmeOAuthClient())
    server.revoke_access_token(old.access_token)  # refused by the API before its expiry
    assert AcmeOAuthClient().me()["success"]
    new = stored()
    assert server.refresh_requests == 1
    assert server.api_authorizations == [bearer(old), bearer(new)]


def test_a_401_after_the_refresh_is_the_result_never_a_loop(server):
    connect(server, AcmeOAuthClient())
    server.set(reject_api=True)
    result = AcmeOAuthClient().me()
    assert result["success"] is False
    assert result["error_code"] == "authentication_error"
    assert server.api_requests == 2
    assert server.refresh_requests == 1


def test_a_refresh_the_token_endpoint_fails_is_retryable_and_keeps_the_connection(server):
    connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    server.stop()  # the provider is down
    result = AcmeOAuthClient().me()
    assert result["error_code"] == "connection_error"
    assert result["retryable"] is True
    assert stored().status == OAuth2Token.Status.ACTIVE


def test_a_failing_token_endpoint_is_retryable_and_keeps_the_connection(server):
    connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    server.set(token_endpoint_status=502)
    result = AcmeOAuthClient().me()
    assert result["error_code"] == "api_error"
    assert result["retryable"] is True
    assert "HTTP 502" in result["error"]
    assert stored().status == OAuth2Token.Status.ACTIVE
    server.set(token_endpoint_status=None)
    assert AcmeOAuthClient().me()["success"]


def test_a_refused_client_secret_is_an_authentication_error(server, settings):
    connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    settings.ACME_OAUTH_OAUTH2_CLIENT_SECRET = "not-the-secret-0123456789"
    result = AcmeOAuthClient().me()
    assert result["error_code"] == "authentication_error"
    assert "invalid_client" in result["error"]
    assert "not-the-secret-0123456789" not in result["error"]
    assert stored().status == OAuth2Token.Status.ACTIVE  # a configuration fault, not the grant


def test_a_client_never_connected_fails_with_not_connected(server):
    result = AcmeOAuthClient().me()
    assert result["success"] is False
    assert result["error_code"] == "not_connected"
    assert server.api_requests == 0


def test_per_user_connections(server):
    users = get_user_model().objects
    alice, bob = users.create_user("alice"), users.create_user("bob")
    token = connect(server, AcmePerUserClient(), user=alice)
    assert token.user == alice
    assert token.connected_by == alice
    assert AcmePerUserClient(user=alice).me()["success"]
    assert AcmePerUserClient(user=bob).me()["error_code"] == "not_connected"
    for nobody in (None, AnonymousUser()):
        assert AcmePerUserClient(user=nobody).me()["error_code"] == "not_connected"
    assert server.api_authorizations == [bearer(token)]
    assert get_token(AcmePerUserClient) is None
    assert get_token(AcmePerUserClient, alice) == token
    assert get_token("acme_per_user", AnonymousUser()) is None


def test_save_get_and_delete_token(db):
    user = get_user_model().objects.create_user("staff")
    saved = save_token(
        "acme_oauth",
        None,
        {
            "access_token": "a1" * 10,
            "refresh_token": "r1" * 10,
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": "read write",
        },
        connected_by=user,
    )
    assert get_token(AcmeOAuthClient()) == saved
    assert (saved.token_type, saved.scopes, saved.connected_by) == (
        "bearer",
        ["read", "write"],
        user,
    )
    assert timedelta(seconds=3590) < saved.expires_at - timezone.now() <= timedelta(seconds=3600)
    saved.status = OAuth2Token.Status.REAUTHORIZATION_REQUIRED
    saved.save()
    # Connecting again replaces the tokens and makes the connection active.
    again = save_token(AcmeOAuthClient, None, {"access_token": "a2" * 10})
    assert again.pk == saved.pk
    assert again.tokens == {"access_token": "a2" * 10}
    assert again.expires_at is None
    assert again.status == OAuth2Token.Status.ACTIVE
    assert delete_token(AcmeOAuthClient()) is True
    assert delete_token("acme_oauth") is False
    assert get_token("acme_oauth") is None


def test_refresh_as_an_operation(server):
    connect(server, AcmeOAuthClient())
    result = refresh(AcmeOAuthClient())
    assert result["success"] is True
    assert result["refreshed"] is True
    assert result["scopes"] == ["read", "offline_access"]
    assert result["expires_at"] == stored().expires_at.isoformat()
    assert server.refresh_requests == 1
    log = IntegrationLog.objects.get(operation="oauth2_refresh")
    assert log.success
    assert log.request_summary == {"user": "site"}
    # A token refreshed by someone else since it was read is not refreshed again.
    assert refresh(AcmeOAuthClient(), used_token="not-the-stored-one")["refreshed"] is False
    assert server.refresh_requests == 1


def test_refresh_when_simulating_sends_nothing(server, settings):
    connect(server, AcmeOAuthClient())
    settings.PATCHBAY_SIMULATE = True
    result = refresh(AcmeOAuthClient())
    assert result == {**result, "success": True, "refreshed": False, "simulated": True}
    assert server.refresh_requests == 0


def test_refresh_of_a_refused_grant_fails(server):
    connect(server, AcmeOAuthClient())
    server.set(refuse_next_refresh=True)
    result = refresh(AcmeOAuthClient())
    assert result["error_code"] == "reauthorization_required"
    assert IntegrationLog.objects.get(operation="oauth2_refresh").error_code == (
        "reauthorization_required"
    )


def test_without_authlib_calls_fail_with_sdk_missing(server, monkeypatch):
    connect(server, AcmeOAuthClient())
    monkeypatch.setattr(
        "patchbay.core.declaration.sdk_available", lambda module: module != "authlib"
    )
    result = AcmeOAuthClient().me()
    assert result["error_code"] == "sdk_missing"
    assert "django-patchbay[oauth2]" in result["error"]
    assert server.api_requests == 0


def test_tokens_never_appear_in_clear(server, caplog):
    caplog.set_level(logging.DEBUG)
    old = connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    server.set(reject_api=True)  # the API quotes the token it refuses
    client = AcmeOAuthClient()
    result = client.me()
    assert result["error_code"] == "authentication_error"
    new = stored()
    values = {old.access_token, old.refresh_token, new.access_token, new.refresh_token}
    assert len(values) == 4

    with connection.cursor() as cursor:
        cursor.execute("SELECT tokens, last_error FROM patchbay_oauth2token")
        raw = " ".join(str(column) for row in cursor.fetchall() for column in row)
    logs = [f"{row.error} {row.request_summary}" for row in IntegrationLog.objects.all()]
    assert "***" in result["error"]
    # patchbay's own log records (the test server in this process logs what it issues).
    records = [record.getMessage() for record in caplog.records if record.name == "patchbay"]
    assert records
    shown = [raw, *logs, *records, result["error"], repr(client), repr(new), str(new)]
    for value in values:
        for text in shown:
            assert value not in text
