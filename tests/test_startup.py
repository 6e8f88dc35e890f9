"""What a start costs: ``django.setup()``, the URLconf and ``check`` import only what they need.

Views are imported when their URL is first requested (:class:`LazyView`), the
built-in clients when a client class is first asked for (the checks read only
the services' declarations), and no provider SDK at all.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.test import Client, RequestFactory
from django.urls import ResolverMatch, URLPattern, get_resolver, resolve, reverse

from patchbay.core import registry
from patchbay.models import ExternalService
from patchbay.stripe.webhooks import StripeWebhookView
from patchbay.views import LazyView
from patchbay.webhooks.registry import BUILTIN_HANDLER_MODULES
from tests.interpreter import run_python

SDKS = {
    "boto3",
    "botocore",
    "django_redis",
    "phonenumbers",
    "redis",
    "requests",
    "storages",
    "stripe",
    "twilio",
}
# Imported by a request to their URL, never by a start (setup, URLconf, check).
VIEW_MODULES = {
    "patchbay.aws.simulated.views",
    "patchbay.aws.views",
    "patchbay.loops.shortcuts",
    "patchbay.loops.views",
    "patchbay.loops.webhooks",
    "patchbay.status",
    "patchbay.stripe.views",
    "patchbay.stripe.webhooks",
    "patchbay.twilio.verification_views",
    "patchbay.twilio.webhooks",
    "patchbay.webhooks.processing",
    "patchbay.webhooks.views",
}
# The client machinery: imported when a client class is first asked for, never by a start.
CLIENT_MODULES = {
    *registry.BUILTIN_CLIENT_MODULES,
    "patchbay.core.client",
    "patchbay.core.recording",
    "patchbay.stripe.simulation",
    "patchbay.webhooks.loopback",
}
WEBHOOK_URL_NAMES = ["stripe-webhook", "twilio-status-callback", "twilio-inbound", "loops-webhook"]


def fresh_interpreter(code):
    """Run ``code`` in a new Python with the test settings; what it prints, as JSON."""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_start_imports_no_view_client_or_sdk():
    loaded = fresh_interpreter(
        """
        import json, sys
        import django
        from django.core.management import call_command

        def patchbay_modules():
            return sorted(name for name in sys.modules if name.startswith("patchbay"))

        django.setup()
        after_setup = patchbay_modules()
        call_command("check", verbosity=0)
        after_check = patchbay_modules()
        sdks = sorted({name.split(".")[0] for name in sys.modules})
        print(json.dumps({"setup": after_setup, "check": after_check, "top": sdks}))
        """
    )

    assert "patchbay.urls" in loaded["check"]  # check did load the URLconf
    assert not VIEW_MODULES & set(loaded["check"])
    # Not even the client machinery: check reads the services' declarations only.
    assert not CLIENT_MODULES & set(loaded["check"])
    # Nor the authentication declarations (no service here has one), nor patchbay's
    # webhook handlers (imported when a delivery is first processed).
    assert not {"patchbay.core.auth", *BUILTIN_HANDLER_MODULES} & set(loaded["check"])
    assert {builtin.service_module for builtin in registry.BUILTIN_SERVICES} <= set(loaded["check"])
    assert not SDKS & set(loaded["top"])


def test_run_checks_with_every_service_live_imports_no_client():
    # The checks that read a service run their whole way (live, configured): still from
    # the declarations alone.
    loaded = fresh_interpreter(
        """
        import json, sys
        import django
        from django.test import override_settings

        django.setup()
        from django.core.checks import run_checks

        live = override_settings(
            PATCHBAY_SIMULATE=False,
            STRIPE_API_KEY="key",
            STRIPE_WEBHOOK_SECRET="whsec",
            LOOPS_API_KEY="key",
            LOOPS_WEBHOOK_SECRET="secret",
            TWILIO_ACCOUNT_SID="AC1",
            TWILIO_AUTH_TOKEN="token",
            AWS_STORAGE_BUCKET_NAME="bucket",
            AWS_ENABLED=True,
        )
        with live:
            ids = sorted({message.id for message in run_checks()})
        modules = sorted(name for name in sys.modules if name.startswith("patchbay"))
        print(json.dumps({"ids": ids, "modules": modules}))
        """
    )

    assert {"patchbay.E021", "patchbay.W010"} <= set(loaded["ids"])  # checked live
    assert not CLIENT_MODULES & set(loaded["modules"])


def test_a_missing_webhook_secret_is_found_without_importing_a_view_or_client():
    # E003 asks whether the webhook's URL is mounted: by reading the URLconf's names, as
    # check_urls_mounted does, not by reverse(), whose first call imports every view.
    loaded = fresh_interpreter(
        """
        import json, sys
        import django
        from django.test import override_settings

        django.setup()
        from django.core.checks import run_checks

        with override_settings(PATCHBAY_SIMULATE=False, STRIPE_API_KEY="key"):
            ids = sorted({message.id for message in run_checks()})
        modules = sorted(name for name in sys.modules if name.startswith("patchbay"))
        print(json.dumps({"ids": ids, "modules": modules}))
        """
    )

    assert "patchbay.E003" in loaded["ids"]
    assert not (VIEW_MODULES | CLIENT_MODULES) & set(loaded["modules"])


def test_the_registry_imports_the_built_in_clients_when_first_read():
    providers = fresh_interpreter(
        """
        import json
        import django

        django.setup()
        from patchbay.core import registry

        print(json.dumps([client_class.provider for client_class in registry.client_classes()]))
        """
    )

    assert providers == ["aws", "loops", "stripe", "twilio"]


def test_a_fresh_registry_finds_a_built_in_client_by_provider():
    found = fresh_interpreter(
        """
        import json
        import django

        django.setup()
        from patchbay.core.registry import get_client_class

        print(json.dumps(get_client_class("twilio").__module__))
        """
    )

    assert found == "patchbay.twilio.client"


def test_asking_for_one_built_in_client_imports_only_it():
    loaded = fresh_interpreter(
        """
        import json, sys
        import django

        django.setup()
        from patchbay.core.registry import BUILTIN_CLIENT_MODULES, get_client_class

        get_client_class("loops")
        print(json.dumps(sorted(name for name in BUILTIN_CLIENT_MODULES if name in sys.modules)))
        """
    )

    assert loaded == ["patchbay.loops.client"]


def test_declarations_list_every_service_without_importing_a_client():
    loaded = fresh_interpreter(
        """
        import json, sys
        import django

        django.setup()
        from patchbay.core import registry

        providers = [service.provider for service in registry.declarations()]
        clients = sorted(set(registry.BUILTIN_CLIENT_MODULES) & set(sys.modules))
        print(json.dumps({"providers": providers, "clients": clients}))
        """
    )

    assert loaded == {"providers": ["aws", "loops", "stripe", "twilio"], "clients": []}


def test_built_in_clients_are_registered():
    assert {"aws", "loops", "stripe", "twilio"} <= {
        client_class.provider for client_class in registry.client_classes()
    }


@pytest.mark.django_db
def test_migrate_gives_every_built_in_service_a_row():
    # post_migrate read the registry, which imported the clients it had not seen yet.
    assert set(
        ExternalService.objects.filter(
            provider__in=["aws", "loops", "stripe", "twilio"]
        ).values_list("provider", flat=True)
    ) == {"aws", "loops", "stripe", "twilio"}


# -- LazyView ----------------------------------------------------------------------------


def patchbay_patterns():
    resolver = next(
        pattern
        for pattern in get_resolver().url_patterns
        if getattr(pattern, "namespace", None) == "patchbay"
    )
    return [pattern for pattern in resolver.url_patterns if isinstance(pattern, URLPattern)]


def test_every_service_url_names_its_view_lazily_and_by_its_real_name():
    patterns = [p for p in patchbay_patterns() if isinstance(p.callback, LazyView)]
    # All but the views of patchbay.views itself: status, metrics and dashboard.
    assert len(patterns) == len(patchbay_patterns()) - 3

    for pattern in patterns:
        lazy = LazyView(f"{pattern.callback.__module__}.{pattern.callback.__name__}")
        assert ResolverMatch(lazy, (), {})._func_path == (
            ResolverMatch(lazy.view, (), {})._func_path
        )


def test_a_class_based_view_is_served_through_as_view():
    match = resolve(reverse("patchbay:stripe-webhook"))

    assert isinstance(match.func, LazyView)
    assert match.func.view_class is StripeWebhookView
    assert match._func_path == "patchbay.stripe.webhooks.StripeWebhookView"
    assert match.view_name == "patchbay:stripe-webhook"


def test_the_view_is_imported_once_however_many_threads_ask():
    lazy = LazyView("patchbay.stripe.webhooks.StripeWebhookView")
    views = []
    threads = [threading.Thread(target=lambda: views.append(lazy.view)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(views) == 8
    assert all(view is views[0] for view in views)


def test_a_view_that_does_not_exist_fails_when_used():
    request = RequestFactory().get("/")
    with pytest.raises(ImportError, match="no_such_view"):
        LazyView("patchbay.stripe.views.no_such_view")(request)
    with pytest.raises(ImportError, match="no_such_module"):
        LazyView("patchbay.no_such_module.view")(request)
    with pytest.raises(ValueError, match="dotted path"):
        LazyView("view")


def test_introspecting_the_wrapper_imports_nothing():
    lazy = LazyView("patchbay.no_such_module.view")

    assert repr(lazy) == "<LazyView patchbay.no_such_module.view>"
    assert not hasattr(lazy, "__wrapped__")
    assert (lazy.__module__, lazy.__name__) == ("patchbay.no_such_module", "view")


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", WEBHOOK_URL_NAMES)
def test_webhook_endpoints_stay_csrf_exempt(url_name):
    response = Client(enforce_csrf_checks=True).post(
        reverse(f"patchbay:{url_name}"), "{}", content_type="application/json"
    )

    # The view itself answered (refusing the unsigned delivery), not the CSRF check.
    assert response["Content-Type"] == "application/json"
    assert b"CSRF" not in response.content


@pytest.mark.django_db
def test_the_simulated_bucket_stays_csrf_exempt_and_forms_do_not():
    strict = Client(enforce_csrf_checks=True)

    # 404: the view ran (nothing is simulated here); a CSRF refusal would be 403.
    assert strict.post(reverse("patchbay:s3-simulated-upload", args=["bucket"])).status_code == 404
    assert strict.post(reverse("patchbay:phone-verification-start")).status_code == 403


# -- patchbay's own webhook handlers, imported when first read ---------------------------


def test_the_built_in_handlers_are_imported_when_first_read_and_still_run_first():
    found = fresh_interpreter(
        """
        import json, sys
        import django

        django.setup()
        from patchbay.webhooks import handlers_for, receiver
        from patchbay.webhooks.registry import BUILTIN_HANDLER_MODULES

        at_start = sorted(set(BUILTIN_HANDLER_MODULES) & set(sys.modules))

        @receiver("stripe", "checkout.session.completed")
        def project_handler(event):
            pass

        handlers = handlers_for("stripe", "checkout.session.completed")
        print(json.dumps({
            "at_start": at_start,
            "order": [f"{handler.__module__}.{handler.__name__}" for handler in handlers],
            "imported": sorted(set(BUILTIN_HANDLER_MODULES) & set(sys.modules)),
        }))
        """
    )

    assert found["at_start"] == []
    assert found["order"] == [
        "patchbay.stripe.handlers.checkout_completed",
        "__main__.project_handler",
    ]
    assert found["imported"] == [
        "patchbay.loops.handlers",
        "patchbay.stripe.handlers",
        "patchbay.twilio.handlers",
    ]


def test_a_built_in_handler_disconnected_before_the_first_read_stays_disconnected():
    found = fresh_interpreter(
        """
        import json
        import django

        django.setup()
        from patchbay.webhooks import disconnect, handlers_for

        # Importing a handler to disconnect it registers it; the first read imports no
        # module twice, so it stays disconnected.
        from patchbay.twilio.handlers import message_status

        disconnect("twilio", "message.status", message_status)
        handlers = handlers_for("twilio", "message.status")
        print(json.dumps([handler.__name__ for handler in handlers]))
        """
    )

    assert found == []
