"""The runner's table: its figures, and a line of targets met and missed with the time taken.

No benchmark runs here: the table is printed from a small results dict.
"""

from __future__ import annotations

from benchmarks.common import TIMES, Figure
from benchmarks.run import table


def results() -> dict:
    def result(*figures: Figure, seconds: float) -> dict:
        return {"figures": [f.to_dict() for f in figures], "error": None, "seconds": seconds}

    return {
        "webhooks": result(
            Figure("Inline vs floor", "floor", 800.0, 576.0, "req/s", 0.72, ">= 0.85x", False),
            Figure("Non-2xx", "sent", 100.0, 0.0, "answers", 0.0, "0", True),
            seconds=200.4,
        ),
        "startup": result(
            Figure("Start-up", "without", 161.0, 190.0, "ms", 1.18, "", False, "", 1.10, "<="),
            Figure("core step", "", None, 16.0, "us/call", None, "", None),
            seconds=20.0,
        ),
    }


def test_the_table_ends_its_figures_with_the_targets_met_and_missed_and_the_time():
    printed = table(results())

    assert "Targets: 1 met, 2 missed. Time: 220 s (webhooks 200 s, startup 20 s)." in printed


def test_a_figure_with_only_a_structured_target_shows_it():
    (line,) = [row for row in table(results()).splitlines() if row.startswith("Start-up")]

    assert f"≤ 1.1{TIMES}" in line
    assert line.rstrip().endswith("NO")
