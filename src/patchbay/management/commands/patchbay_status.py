"""``manage.py patchbay_status``: what each service would do, and optionally whether it answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patchbay.models import HealthCheck
from patchbay.status import checks, status_report, webhook_queue
from patchbay.tenancy import tenancy_enabled, tenant_for_key


class Command(BaseCommand):
    help = (
        "Show each registered service's mode, switch, SDK, missing configuration (and, "
        "simulating, what live use would need), where each configuration value comes from "
        "(never the values), health, circuit breaker and refused webhook deliveries; then the "
        "webhook events waiting to be processed (or dead) per provider."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--probe",
            action="store_true",
            help="Also call each service's health probe (fails if any probe fails).",
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print JSON.")
        parser.add_argument(
            "--tenant",
            default="",
            metavar="KEY",
            help="Show the services of this tenant (its primary key); default: the site's.",
        )

    def handle(
        self, *args: Any, probe: bool, as_json: bool, tenant: str = "", **options: Any
    ) -> None:
        if tenant and not tenancy_enabled():
            raise CommandError("--tenant needs PATCHBAY_TENANT_MODEL.")
        if tenant and tenant_for_key(tenant) is None:
            raise CommandError(f"No tenant has the key {tenant!r}.")
        # Probing first, so the health shown includes the probes' outcome.
        probes = {check.provider: check.run() for check in checks(tenant)} if probe else {}
        report = status_report(tenant)
        for service in report:
            if service["provider"] in probes:
                service["probe"] = _probe_summary(probes[service["provider"]])
        queue = webhook_queue()
        if as_json:
            self.stdout.write(
                json.dumps({"services": report, "webhooks": queue}, indent=2, default=str)
            )
        else:
            for service in report:
                self._write_service(service)
            if not report:
                self.stdout.write("No service client is installed.")
            self._write_queue(queue)
        failed = [
            provider
            for provider, check in probes.items()
            if check.status != HealthCheck.Status.SUCCESS
        ]
        if failed:
            raise CommandError(f"Health probe failed for: {', '.join(failed)}.")
        unreadable = [
            service["provider"] for service in report if service["credentials_unreadable"]
        ]
        if unreadable:
            raise CommandError(
                f"The stored credentials of {', '.join(unreadable)} could not be decrypted with "
                "any configured key: see system check patchbay.E024 for the fix."
            )

    def _write_service(self, service: dict[str, Any]) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"{service['provider']} ({service['name']})"))
        self._line("mode", service["mode"])
        if service["enabled"]:
            self._line("enabled", "yes")
        else:
            self._line("enabled", f"no ({service['disabled_reason']})", self.style.WARNING)
        if service["sdk_installed"]:
            self._line("SDK installed", "yes")
        else:
            self._line("SDK installed", "no", self.style.ERROR)
        if service["missing"]:
            self._line("missing configuration", ", ".join(service["missing"]), self.style.ERROR)
        elif service["mode"] == "simulated":
            self._line("missing configuration", f"none ({service['note']})")
        else:
            self._line("missing configuration", "none")
        if service["mode"] == "simulated" and service["missing_for_live"]:
            self._line("missing for live use", ", ".join(service["missing_for_live"]))
        if service["credentials_unreadable"]:
            self._line("stored credentials", "unreadable (decryption_failed)", self.style.ERROR)
        sources = ", ".join(f"{name} from {source}" for name, source in service["sources"].items())
        self._line("configuration", sources or "none")
        rate = service["success_rate"]
        rate_text = "" if rate is None else f", success rate {rate:g} %"
        self._line("health", f"{service['health']}{rate_text}")
        self._line("circuit breaker", service["breaker"])
        refused = service.get("refused_deliveries") or {}
        if refused:
            counts = ", ".join(f"{reason} {count}" for reason, count in sorted(refused.items()))
            self._line("refused deliveries (24 h)", counts, self.style.WARNING)
        if "probe" in service:
            self._write_probe(service["probe"])

    def _write_queue(self, queue: list[dict[str, Any]]) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("webhook events waiting"))
        if not queue:
            self._line("all providers", "none")
        for row in queue:
            oldest = row["oldest_unprocessed"]
            since = f", oldest received {oldest.isoformat()}" if oldest else ""
            line = f"{row['queued']} queued, {row['retrying']} retrying, {row['dead']} dead{since}"
            self._line(row["provider"], line, self.style.WARNING if row["dead"] else None)

    def _write_probe(self, probe: dict[str, Any]) -> None:
        outcome = f"{probe['status']} in {probe['response_time_ms']} ms"
        if probe["simulated"]:
            outcome += " (simulated)"
        if probe["status"] == HealthCheck.Status.SUCCESS:
            self._line("probe", outcome, self.style.SUCCESS)
        else:
            self._line("probe", f"{outcome}: {probe['error']}", self.style.ERROR)

    def _line(self, label: str, value: str, style: Callable[[str], str] | None = None) -> None:
        line = f"  {label}: {value}"
        self.stdout.write(style(line) if style else line)


def _probe_summary(check: HealthCheck) -> dict[str, Any]:
    return {
        "status": check.status,
        "response_time_ms": check.response_time_ms,
        "simulated": check.simulated,
        "error": check.error,
    }
