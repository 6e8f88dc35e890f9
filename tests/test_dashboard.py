"""The health dashboard: permissions, the admin index link, its numbers and its cost."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patchbay.core import rollups
from patchbay.core.recording import CallRecord, store_records
from patchbay.models import ExternalService, HealthCheck, WebhookEvent

URL = "/integrations/dashboard/"


def staff(*permissions, username="operator"):
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def operator(client, db):
    client.force_login(staff("view_externalservice", "view_integrationlog"))
    return client


def calls(provider, durations, *, at, failures=0, error_code="timeout"):
    """Store a call per duration at ``at``; the first ``failures`` of them failed."""
    store_records(
        [
            CallRecord(
                provider=provider,
                operation="send_transactional",
                success=index >= failures,
                duration_ms=duration,
                at=at,
                error="The API timed out." if index < failures else "",
                error_code=error_code if index < failures else "",
                status_code=504 if index < failures else 200,
            )
            for index, duration in enumerate(durations)
        ]
    )


def service(response, provider):
    return next(s for s, _ in response.context["services"] if s.provider == provider)


def window(response, provider, name):
    return next(w for w in service(response, provider).windows if w.name == name)


class TestPermissions:
    def test_it_is_mounted_at_integrations_dashboard(self):
        assert reverse("patchbay:dashboard") == URL

    @pytest.mark.django_db
    def test_anonymous_users_are_sent_to_the_admin_login(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    @pytest.mark.django_db
    def test_users_who_are_not_staff_are_sent_to_the_admin_login(self, client):
        user = User.objects.create_user("someone", password="pw")
        for codename in ("view_externalservice", "view_integrationlog"):
            user.user_permissions.add(Permission.objects.get(codename=codename))
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "permissions", [(), ("view_externalservice",), ("view_integrationlog",)]
    )
    def test_staff_without_both_view_permissions_are_refused(self, client, permissions):
        client.force_login(staff(*permissions))
        assert client.get(URL).status_code == 403

    def test_staff_with_both_view_permissions_see_it(self, operator):
        response = operator.get(URL)
        assert response.status_code == 200
        assert b"Integration health" in response.content

    def test_a_superuser_sees_it(self, admin_client):
        assert admin_client.get(URL).status_code == 200

    def test_it_answers_get_only(self, operator):
        assert operator.post(URL).status_code == 405


class TestAdminIndexLink:
    ADMIN_URL = "/admin/patchbay/dashboard/"

    def test_the_admin_index_links_to_it_for_those_who_may_see_it(self, operator):
        response = operator.get(reverse("admin:index"))
        assert self.ADMIN_URL.encode() in response.content
        assert b"Health dashboard" in response.content

    @pytest.mark.django_db
    def test_the_link_is_not_shown_to_staff_who_may_not(self, client):
        client.force_login(staff("view_externalservice"))
        response = client.get(reverse("admin:index"))
        assert response.status_code == 200
        assert self.ADMIN_URL.encode() not in response.content

    def test_the_link_leads_to_the_dashboard(self, operator):
        response = operator.get(self.ADMIN_URL)
        assert response.status_code == 302
        assert response["Location"] == URL

    @pytest.mark.django_db
    def test_staff_who_may_not_cannot_follow_it(self, client):
        client.force_login(staff("view_integrationlog"))
        assert client.get(self.ADMIN_URL).status_code == 403

    @pytest.mark.urls("tests.urls_without_patchbay")
    def test_without_patchbay_urls_the_admin_serves_the_page_itself(self, admin_client):
        response = admin_client.get(self.ADMIN_URL)
        assert response.status_code == 200
        assert b"Integration health" in response.content

    def test_it_is_inside_the_admin_look_and_loads_no_script(self, operator):
        content = operator.get(URL).content.decode()
        assert 'id="site-name"' in content  # admin/base_site.html's header
        assert "<script" not in content.split('id="content-main"')[1]
        assert "https://" not in re.sub(r'xmlns="[^"]+"', "", content)


@pytest.mark.django_db
class TestNumbers:
    @pytest.fixture
    def now(self):
        return timezone.now()

    def test_success_rate_and_percentiles_per_window(self, operator, now):
        # This hour: 90 calls of 100 ms and 10 failures of 2000 ms.
        calls("loops", [2000] * 10 + [100] * 90, at=now, failures=10)
        # Three days ago: 100 calls of 5 ms, all fine.
        calls("loops", [5] * 100, at=now - datetime.timedelta(days=3))
        response = operator.get(URL)
        hour, day, week = (window(response, "loops", name) for name in ("hour", "day", "week"))
        assert (hour.calls, hour.errors, hour.success_rate) == (100, 10, 90.0)
        assert day == hour.__class__(**{**hour.__dict__, "name": "day"})
        assert (week.calls, week.errors, week.success_rate) == (200, 10, 95.0)
        # Within the documented precision: never below, at most 12.2 % above.
        assert 100 <= hour.p50 <= 112
        assert 2000 <= hour.p95 <= 2244
        assert week.p50 == 5  # exact below 10 ms
        assert 100 <= week.p95 <= 112

    def test_the_page_shows_the_numbers(self, operator, now):
        calls("loops", [100] * 3 + [7], at=now, failures=1)
        content = operator.get(URL).content.decode()
        section = content.split('id="service-loops"')[1].split("</section>")[0]
        row = section.split('class="pb-window-hour"')[1].split("</tr>")[0]
        assert re.findall(r'pb-(calls|errors|rate|p50|p95)">([^<]+)<', row) == [
            ("calls", "4"),
            ("errors", "1"),
            ("rate", "75.0&nbsp;%"),
            ("p50", "112&nbsp;ms"),
            ("p95", "112&nbsp;ms"),
        ]

    def test_a_service_without_calls_shows_dashes(self, operator):
        response = operator.get(URL)
        hour = window(response, "stripe", "hour")
        assert (hour.calls, hour.success_rate, hour.p50) == (0, None, None)

    def test_calls_and_errors_per_hour(self, operator, now):
        calls("twilio", [50] * 4, at=now, failures=1)
        calls("twilio", [50] * 6, at=now - datetime.timedelta(hours=3), failures=6)
        calls("twilio", [50] * 9, at=now - datetime.timedelta(days=2))  # outside the chart
        response = operator.get(URL)
        hours = service(response, "twilio").hours
        assert len(hours) == 24
        assert hours[-1].hour == rollups.hour_of(now)
        assert [(h.calls, h.errors) for h in hours[-4:]] == [(6, 6), (0, 0), (0, 0), (4, 1)]
        assert sum(h.calls for h in hours) == 10

    def test_the_chart_reads_without_colour(self, operator, now):
        calls("twilio", [50] * 4, at=now, failures=1)
        content = operator.get(URL).content.decode()
        chart = content.split('id="service-twilio"')[1].split("</svg>")[0]
        assert 'role="img"' in chart
        assert "twilio: 4 calls, 1 errors in the last 24 hours" in chart
        assert f"{rollups.hour_of(now):%Y-%m-%d %H}:00 UTC: 4 calls, 1 errors" in chart
        assert '<pattern id="pb-twilio-calls"' in chart
        assert '<pattern id="pb-twilio-errors"' in chart
        assert ">calls</text>" in chart
        assert ">errors</text>" in chart
        # The same numbers as a table.
        assert f"{rollups.hour_of(now):%Y-%m-%d %H}:00</th><td" in content

    def test_latest_failures_with_their_error_codes(self, operator, now):
        calls("stripe", [10] * 3, at=now - datetime.timedelta(hours=30), failures=3)
        calls("stripe", [10] * 4, at=now, failures=4, error_code="rate_limited")
        calls("stripe", [10] * 5, at=now - datetime.timedelta(days=8), failures=5)  # too old
        response = operator.get(URL)
        failures = service(response, "stripe").failures
        assert [f.error_code for f in failures] == ["rate_limited"] * 4 + ["timeout"]
        assert b"<code>rate_limited</code>" in response.content

    def test_the_last_probe(self, operator):
        row, _ = ExternalService.objects.get_or_create(provider="aws")
        HealthCheck.objects.create(service=row, status=HealthCheck.Status.SUCCESS)
        last = HealthCheck.objects.create(
            service=row, status=HealthCheck.Status.TIMEOUT, response_time_ms=5000, error="slow"
        )
        response = operator.get(URL)
        assert service(response, "aws").last_check == last
        assert b'pb-probe-status">timeout' in response.content
        assert service(response, "loops").last_check is None

    def test_health_and_breaker_state(self, operator):
        ExternalService.objects.update_or_create(
            provider="loops", defaults={"health_status": "degraded"}
        )
        response = operator.get(URL)
        assert (service(response, "loops").health, service(response, "loops").breaker) == (
            "degraded",
            "closed",
        )
        assert b'pb-health">degraded' in response.content

    def test_the_webhook_backlog(self, operator, now):
        statuses = ["received"] * 3 + ["failed"] * 2 + ["dead"] + ["processed"] * 4
        WebhookEvent.objects.bulk_create(
            [
                WebhookEvent(provider="stripe", event_id=f"evt_{n}", status=status)
                for n, status in enumerate(statuses)
            ]
        )
        oldest = now - datetime.timedelta(hours=5)
        WebhookEvent.objects.filter(event_id="evt_4").update(received_at=oldest)
        WebhookEvent.objects.filter(event_id="evt_5").update(
            received_at=oldest - datetime.timedelta(days=9)
        )
        response = operator.get(URL)
        backlog = service(response, "stripe").backlog
        assert (backlog["queued"], backlog["retrying"], backlog["dead"]) == (3, 2, 1)
        assert backlog["oldest_unprocessed"] == oldest  # the dead one is not waiting
        section = response.content.decode().split('id="service-stripe"')[1]
        assert 'pb-received">3<' in section
        assert 'pb-dead">1<' in section
        assert re.search(r'pb-oldest"><time datetime="[^"]+">5\xa0hours</time> ago', section)

    def test_simulated_calls_count_for_a_simulating_service_only(self, operator, settings, now):
        store_records(
            [
                CallRecord(
                    provider="loops",
                    operation="x",
                    success=True,
                    duration_ms=5,
                    at=now,
                    simulated=simulated,
                )
                for simulated in (False, True, True)
            ]
        )
        assert window(operator.get(URL), "loops", "hour").calls == 1
        settings.PATCHBAY_SIMULATE = True
        response = operator.get(URL)
        assert service(response, "loops").simulated
        assert window(response, "loops", "hour").calls == 2


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_rows(operator, settings):
    # Each service's row read on every request, not when a 5 s cache happens to expire.
    settings.PATCHBAY_SERVICE_CONFIG_TTL = 0
    now = timezone.now()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert operator.get(URL).status_code == 200
        return len(queries)

    def add(times):
        for hours in range(0, 24 * 7, 6):
            at = now - datetime.timedelta(hours=hours)
            for provider in ("loops", "stripe", "twilio", "aws"):
                calls(provider, list(range(1, 10 * times)), at=at, failures=times)
        WebhookEvent.objects.bulk_create(
            [WebhookEvent(provider="stripe", event_id=f"evt_{times}_{n}") for n in range(times)]
        )

    add(1)
    operator.get(URL)  # warm the session and content types
    few = count()
    add(20)
    assert count() == few
