"""Offline OAuth2: a local consent page and token endpoint standing in for the provider.

While simulating, :func:`~patchbay.oauth2.flow.authorization_url` sends the
user to ``patchbay:oauth2-simulated-authorize`` instead of the provider. Its
"Approve" redirects to the callback with an authorization code, as a
provider would; "Deny" with ``error=access_denied``. The code is signed
with the project's ``SECRET_KEY`` (no public secret is involved) and carries
the PKCE challenge and the redirect URI, which :func:`exchange_code`, the
in-process token endpoint, checks as a real one does before issuing
simulated tokens. The page only redirects to this site's own callback URL,
and answers 404 when not simulating.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core import signing

from patchbay.conf import conf
from patchbay.core.sdk import import_sdk
from patchbay.core.urls import patchbay_path
from patchbay.exceptions import ServiceError

_CODE_SALT = "patchbay.oauth2.simulated-code"
#: Prefix of the simulated tokens: they mean nothing to any provider.
TOKEN_PREFIX = "simulated-"  # noqa: S105  # nosec B105
#: The lifetime of a simulated access token, in seconds.
EXPIRES_IN = 3600
_CHALLENGE_MODULE = "authlib.oauth2.rfc7636.challenge"


def authorize_url(provider: str) -> str:
    """The local consent page that plays ``provider``'s authorization endpoint."""
    path = patchbay_path("patchbay:oauth2-simulated-authorize", kwargs={"provider": provider})
    return conf.PUBLIC_URL + path


def issue_code(provider: str, query: dict[str, str]) -> str:
    """The authorization code "Approve" gives for an authorization request's ``query``."""
    grant = {
        "provider": provider,
        "redirect_uri": query.get("redirect_uri", ""),
        "scope": query.get("scope", ""),
        "code_challenge": query.get("code_challenge") or None,
        "code_challenge_method": query.get("code_challenge_method") or None,
    }
    return signing.dumps(grant, salt=_CODE_SALT, compress=True)


def exchange_code(
    provider: str, code: str, *, verifier: str | None, redirect_uri: str
) -> dict[str, Any]:
    """The token endpoint's answer for ``code``, checked as a provider checks it.

    Raises :class:`~patchbay.exceptions.ServiceError` ``authentication_error``
    (as the live exchange does for ``invalid_grant``) for a code that is not
    this endpoint's, is older than :setting:`PATCHBAY_OAUTH2_STATE_MAX_AGE`,
    was issued for another provider or redirect URI, or whose PKCE challenge
    the verifier does not answer.
    """
    try:
        grant = signing.loads(code, salt=_CODE_SALT, max_age=conf.OAUTH2_STATE_MAX_AGE)
    except signing.BadSignature:
        grant = None
    challenge = (grant or {}).get("code_challenge")
    if challenge is not None:
        # The provider's own check, with authlib's server side of RFC 7636.
        compare = import_sdk(_CHALLENGE_MODULE, "oauth2").compare_s256_code_challenge
        verified = bool(verifier) and compare(verifier, challenge)
    else:
        verified = True
    if (
        not grant
        or grant.get("provider") != provider
        or grant.get("redirect_uri") != redirect_uri
        or not verified
    ):
        raise ServiceError(
            "The simulated token endpoint refused the authorization code (invalid_grant).",
            error_code="authentication_error",
        )
    return {
        "access_token": TOKEN_PREFIX + secrets.token_urlsafe(24),
        "refresh_token": TOKEN_PREFIX + secrets.token_urlsafe(32),
        "token_type": "Bearer",  # nosec B105  (the token type, no secret)
        "expires_in": EXPIRES_IN,
        "scope": grant.get("scope", ""),
    }


def revoke(provider: str, token: str) -> bool:
    """The revocation endpoint's part: simulated tokens are kept nowhere else, so True."""
    return True
