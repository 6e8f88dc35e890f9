"""OAuth2 connections per tenant: each tenant's token is its own."""

from __future__ import annotations

from patchbay.models import OAuth2Token
from patchbay.oauth2.tokens import delete_token, get_token, save_token
from patchbay.tenancy import use_tenant


def test_each_tenant_has_its_own_site_wide_connection(acme, globex):
    with use_tenant(acme):
        save_token("crm", None, {"access_token": "acme-token"})
    with use_tenant(globex):
        save_token("crm", None, {"access_token": "globex-token"})
        assert get_token("crm").access_token == "globex-token"
    save_token("crm", None, {"access_token": "site-token"})
    with use_tenant(acme):
        assert get_token("crm").access_token == "acme-token"
        assert delete_token("crm") is True
        assert get_token("crm") is None
    assert get_token("crm").access_token == "site-token"
    assert sorted(OAuth2Token.objects.values_list("tenant_key", flat=True)) == sorted(
        ["", str(globex.pk)]
    )
