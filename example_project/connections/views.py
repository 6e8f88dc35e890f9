"""OAuth2 demo: connect Demo CRM (a fictional service), see the connection, call it, disconnect.

Connect and Disconnect post to patchbay's views (``patchbay:oauth2-connect``,
``patchbay:oauth2-disconnect``); in simulation, Connect leads to patchbay's
simulated consent page, whose Approve comes back through the real callback,
which stores the (simulated) tokens encrypted. The page shows what is stored
about the connection, never a token.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from connections.client import DemoCrmClient
from patchbay.core.simulation import should_simulate
from patchbay.oauth2.tokens import get_token


@login_required
@require_http_methods(["GET", "POST"])
def connect_page(request: HttpRequest) -> HttpResponse:
    """The user's Demo CRM connection; a POST makes a call with it and shows the answer."""
    call = DemoCrmClient(user=request.user).list_contacts() if request.method == "POST" else None
    context = {
        "service": DemoCrmClient.label(),
        "provider": DemoCrmClient.provider,
        "token": get_token(DemoCrmClient, request.user),
        "call": call,
        "simulating": should_simulate(),
    }
    return render(request, "connections/connect.html", context)
