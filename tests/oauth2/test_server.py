"""The test authorization server itself: a real code flow with PKCE, refresh and revocation."""

from __future__ import annotations

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET, query_of

CALLBACK = "https://app.example.com/oauth2/acme/callback/"


def session(**kwargs):
    return OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        redirect_uri=CALLBACK,
        scope="read offline_access",
        code_challenge_method="S256",
        **kwargs,
    )


def connect(oauth2_server):
    client = session()
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        oauth2_server.authorize_url, code_verifier=verifier
    )
    callback = oauth2_server.authorize(url)
    assert callback.startswith(CALLBACK)
    assert query_of(callback)["state"] == state
    token = client.fetch_token(
        oauth2_server.token_url, authorization_response=callback, code_verifier=verifier
    )
    return client, token


def me(oauth2_server, access_token):
    return requests.get(
        oauth2_server.api_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )


def test_code_flow_with_pkce_refresh_and_revocation(oauth2_server):
    client, token = connect(oauth2_server)
    assert oauth2_server.code_exchanges == 1
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read offline_access"
    assert me(oauth2_server, token["access_token"]).json() == {
        "user": "alice",
        "scope": "read offline_access",
    }

    refreshed = client.refresh_token(oauth2_server.token_url, refresh_token=token["refresh_token"])
    assert oauth2_server.refresh_requests == 1
    assert refreshed["refresh_token"] != token["refresh_token"]  # rotated
    assert me(oauth2_server, token["access_token"]).status_code == 401
    assert me(oauth2_server, refreshed["access_token"]).status_code == 200

    client.revoke_token(oauth2_server.revocation_url, refreshed["access_token"])
    assert oauth2_server.revocations == 1
    assert me(oauth2_server, refreshed["access_token"]).status_code == 401


def test_a_rotated_refresh_token_is_refused_with_invalid_grant(oauth2_server):
    client, token = connect(oauth2_server)
    client.refresh_token(oauth2_server.token_url, refresh_token=token["refresh_token"])
    answer = requests.post(
        oauth2_server.token_url,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert oauth2_server.refresh_requests == 2


def test_without_rotation_the_refresh_token_stays(oauth2_server):
    oauth2_server.set(rotate_refresh_tokens=False)
    client, token = connect(oauth2_server)
    refreshed = client.refresh_token(oauth2_server.token_url, refresh_token=token["refresh_token"])
    assert "refresh_token" not in refreshed or refreshed["refresh_token"] == token["refresh_token"]
    again = client.refresh_token(oauth2_server.token_url, refresh_token=token["refresh_token"])
    assert again["access_token"] != refreshed["access_token"]


def test_the_code_exchange_needs_the_pkce_verifier(oauth2_server):
    client = session()
    url, _ = client.create_authorization_url(
        oauth2_server.authorize_url, code_verifier=generate_token(48)
    )
    callback = oauth2_server.authorize(url)
    answer = requests.post(
        oauth2_server.token_url,
        data={
            "grant_type": "authorization_code",
            "code": query_of(callback)["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": generate_token(48),
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_a_denied_authorization_redirects_with_access_denied(oauth2_server):
    oauth2_server.deny()
    url, state = session().create_authorization_url(
        oauth2_server.authorize_url, code_verifier=generate_token(48)
    )
    answer = query_of(oauth2_server.authorize(url))
    assert (answer["error"], answer["state"]) == ("access_denied", state)
    assert "code" not in answer


def test_invalid_grant_on_demand(oauth2_server):
    client, token = connect(oauth2_server)
    oauth2_server.set(refuse_next_refresh=True)
    answer = requests.post(
        oauth2_server.token_url,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.json()["error"] == "invalid_grant"
    # Only the next one: the refresh token itself is still good.
    assert client.refresh_token(oauth2_server.token_url, refresh_token=token["refresh_token"])
