"""OAuth2Token: tokens encrypted at rest and never shown, one connection per owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from patchbay.models import OAuth2Token

ACCESS = "access-token-value-1234567890"
REFRESH = "refresh-token-value-0987654321"

pytestmark = pytest.mark.django_db


def make(**kwargs):
    return OAuth2Token.objects.create(
        provider="acme",
        tokens={"access_token": ACCESS, "refresh_token": REFRESH},
        **kwargs,
    )


def test_tokens_are_encrypted_in_the_column_and_read_back():
    token = make(expires_at=timezone.now() + timedelta(hours=1), scopes=["read"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT tokens FROM patchbay_oauth2token WHERE id = %s", [token.pk])
        [raw] = cursor.fetchone()
    assert ACCESS not in raw
    assert REFRESH not in raw
    stored = OAuth2Token.objects.get(pk=token.pk)
    assert (stored.access_token, stored.refresh_token) == (ACCESS, REFRESH)
    assert stored.scopes == ["read"]


def test_repr_and_str_never_show_tokens():
    token = make()
    for shown in (repr(token), str(token)):
        assert ACCESS not in shown
        assert REFRESH not in shown
    assert "acme" in repr(token)
    assert "site-wide" in str(token)


def test_expiry():
    now = timezone.now()
    token = make(expires_at=now + timedelta(seconds=30))
    assert not token.is_expired(now)
    assert token.expires_soon(60, now)
    assert not token.expires_soon(10, now)
    assert token.is_expired(now + timedelta(seconds=30))
    forever = OAuth2Token(provider="other", tokens={"access_token": ACCESS})
    assert not forever.is_expired()
    assert not forever.expires_soon(10**6)


def test_one_site_wide_connection_per_provider():
    make()
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_one_connection_per_provider_and_user():
    alice = get_user_model().objects.create_user("alice")
    bob = get_user_model().objects.create_user("bob")
    make(user=alice)
    make(user=bob)
    make()  # the site-wide one beside them
    with pytest.raises(IntegrityError), transaction.atomic():
        make(user=alice)
    assert alice.patchbay_oauth2_tokens.count() == 1
