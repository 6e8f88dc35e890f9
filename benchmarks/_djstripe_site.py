"""Settings of the dj-stripe server the background benchmark compares against.

Figure 3's site (:mod:`benchmarks._webhook_site`: the same middleware, database
and cache) with dj-stripe installed and its webhook endpoint
(``djstripe.urls``) served under ``/djstripe/``: the comparison the issue names,
on the same gunicorn and PostgreSQL. dj-stripe verifies the signature with the
secret of a ``WebhookEndpoint`` row (created by
:func:`benchmarks.bench_background.djstripe_endpoint`), stores a
``WebhookEventTrigger`` and an ``Event``, and runs its own handlers inline.
"""

from __future__ import annotations

from benchmarks._webhook_site import *  # noqa: F403
from benchmarks._webhook_site import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "djstripe"]
ROOT_URLCONF = "benchmarks._djstripe_urls"
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
STRIPE_LIVE_MODE = False
# Never used to call Stripe: the events posted are of a type dj-stripe fetches nothing for.
STRIPE_TEST_SECRET_KEY = "sk_test_" + "0" * 24  # nosec B105
# patchbay is installed (figure 3's site) but serves nothing here: its endpoints are
# the other servers'.
SILENCED_SYSTEM_CHECKS = ["patchbay.E020"]
