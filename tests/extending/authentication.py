"""The other ways a client authenticates, each declared on a client of its own.

Acme Notify (``acme_notify/client.py``) sends a Bearer token and Acme CRM
(``acme_crm/client.py``) an OAuth2 access token; these send an API key or HTTP
Basic credentials. Every request a client makes with ``self.http()`` carries them.
"""

from __future__ import annotations

from patchbay.core.auth import ApiKeyAuth, BasicAuth
from patchbay.core.client import BaseClient


class AcmeSearchClient(BaseClient):
    provider = "acme_search"
    display_name = "Acme Search"
    # "X-API-Key: <ACME_SEARCH_API_KEY>"
    authentication = ApiKeyAuth(header="X-API-Key")


class AcmeMapsClient(BaseClient):
    provider = "acme_maps"
    display_name = "Acme Maps"
    # "?key=<ACME_MAPS_API_KEY>" on every URL
    authentication = ApiKeyAuth(query_parameter="key")


class AcmeLedgerClient(BaseClient):
    provider = "acme_ledger"
    display_name = "Acme Ledger"
    # "Authorization: Basic base64(<ACME_LEDGER_ACCOUNT_ID>:<ACME_LEDGER_API_SECRET>)"
    authentication = BasicAuth("account_id", "api_secret")
