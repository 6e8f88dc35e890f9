"""Run the benchmarks, print one table and write JSON.

    python -m benchmarks.run                   # every benchmark, full length (about 30 min)
    python -m benchmarks.run --quick           # a smoke run (about 4 min): checks they still work
    python -m benchmarks.run --only presigning startup
    python -m benchmarks.run --json /tmp/results.json
    python -m benchmarks.chart                 # the results' ratios against their targets, as SVG

A full run takes 20 to 30 minutes on 2 cores (21 and 30 on quiet machines), about
half of it the background benchmark's drains and latency runs; the first also
creates the peers' virtual environment (about a minute). Approximate: the JSON
records each benchmark's ``seconds``.

Each ``benchmarks/bench_<name>.py`` runs in a process of its own. PostgreSQL is
the server of PATCHBAY_BENCH_DATABASE_URL (else DATABASE_URL), where each
benchmark creates a scratch database named PATCHBAY_BENCH_DB_PREFIX + its label
(default ``patchbay_bench_``) and drops it; Redis is PATCHBAY_BENCH_REDIS_URL's
database and the next three; dj-stripe runs from PATCHBAY_BENCH_PEERS_VENV
(default .venv-peers). The exit code is 0 even when a target is missed (the
table says so) and 1 when a benchmark crashed. See docs/performance.rst.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Figure, call_in_subprocess, figures_from, postgres_url

# The order of the figures; any other bench_*.py module runs after them.
ORDER = (
    *("client_overhead", "presigning", "webhooks", "background"),
    *("startup", "simulation", "admin", "dashboard"),
)
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "latest.json"


def available() -> list[str]:
    found = sorted(path.stem[len("bench_") :] for path in (ROOT / "benchmarks").glob("bench_*.py"))
    return [name for name in ORDER if name in found] + [n for n in found if n not in ORDER]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run (CI)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    args = parser.parse_args(argv)

    names = available()
    if args.only:
        wanted = [name.removeprefix("bench_") for name in args.only]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(names)})")
        names = [name for name in names if name in wanted]

    started = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        began = time.monotonic()
        error = None
        try:
            figures = figures_from(
                call_in_subprocess(
                    f"benchmarks.bench_{name}",
                    "run",
                    {"quick": args.quick},
                    timeout=300 if args.quick else 1800,
                )
            )
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            figures, error = [], str(exc)
            print(f"!! {name} crashed:\n{error}", file=sys.stderr, flush=True)
        seconds = time.monotonic() - began
        print(f"   {name}: {seconds:.0f} s", file=sys.stderr, flush=True)
        results[name] = {
            "figures": [figure.to_dict() for figure in figures],
            "error": error,
            "seconds": round(seconds, 1),
        }

    report = {
        "quick": args.quick,
        "machine": machine(),
        "duration_s": round(time.monotonic() - started, 1),
        "benchmarks": results,
    }
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults written to {args.json}")
    crashed = [name for name, result in results.items() if result["error"]]
    if crashed:
        print(f"Crashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


# -- the table ---------------------------------------------------------------------------------


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "per s":
        return f"{value:,.0f}/s"
    if unit in {"req/s"}:
        return f"{value:,.0f} {unit}"
    digits = 2 if abs(value) < 100 else 0
    return f"{value:,.{digits}f} {unit}".strip()


def verdict(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[met]


def table(results: dict[str, dict[str, Any]]) -> str:
    header = ("Figure", "Value", "Baseline", "Ratio", "Target", "Met")
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for name, result in results.items():
        if result["error"]:
            rows.append((f"{name}: CRASHED", "", "", "", "", ""))
        for data in result["figures"]:
            figure = Figure.from_dict(data)
            baseline = ""
            if figure.baseline:
                baseline = f"{number(figure.baseline_value, figure.unit)} ({figure.baseline})"
            rows.append(
                (
                    figure.name,
                    number(figure.value, figure.unit),
                    baseline,
                    "-" if figure.ratio is None else f"{figure.ratio:.2f}x",
                    figure.target or str(figure.ratio_target() or ""),
                    verdict(figure.met),
                )
            )
            if figure.notes:
                notes.append(f"{figure.name}: {figure.notes}")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    body = [line(header), rule, *map(line, rows)]
    return "\n".join(
        ["", *body, "", summary(results), "", "Notes:", *(f"  {note}" for note in notes)]
    )


def summary(results: dict[str, dict[str, Any]]) -> str:
    """One line: how many targets were met and missed, and how long each benchmark took."""
    verdicts = [data.get("met") for result in results.values() for data in result["figures"]]
    met, missed = verdicts.count(True), verdicts.count(False)
    seconds = ", ".join(f"{name} {result['seconds']:.0f} s" for name, result in results.items())
    total = sum(result["seconds"] for result in results.values())
    return f"Targets: {met} met, {missed} missed. Time: {total:.0f} s ({seconds})."


# -- the machine -------------------------------------------------------------------------------


# What the JSON result records of patchbay's .venv: patchbay, the SDKs it wraps, and the
# peers and engines the benchmarks compare with or run on.
PACKAGES = (
    *("django", "django-patchbay", "stripe", "twilio", "boto3", "requests"),
    *("django-storages", "django-tasks-db", "django-tasks-rq", "rq", "gunicorn"),
)


def machine() -> dict[str, Any]:
    """What the figures were measured on.

    ``peers`` are the versions in the peers' virtual environment (dj-stripe and
    its own stripe SDK; :mod:`benchmarks.peers`), None when no run has made it.
    """
    from benchmarks import peers

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres_version(),
        "redis": redis_version(),
        "git_commit": git_commit(),
        "packages": peers.installed_versions(PACKAGES),
        "peers": peers.versions(),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def postgres_version() -> str | None:
    try:
        import psycopg
        from psycopg.conninfo import make_conninfo

        url = postgres_url()
        with psycopg.connect(make_conninfo(url), connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
    except Exception:  # no driver, no server: the JSON says so
        return None
    return str(row[0]).split()[0] if row else None


def redis_version() -> str | None:
    try:
        import redis

        from benchmarks.common import redis_url

        info = redis.Redis.from_url(redis_url(), socket_timeout=3).info("server")
    except Exception:
        return None
    return str(info.get("redis_version"))


def git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return completed.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
