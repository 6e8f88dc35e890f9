"""The benchmarks' chart: a results file's ratio figures against their targets, as SVG.

No benchmark runs here: the chart is drawn from a small results dict.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from benchmarks import chart
from benchmarks.common import TIMES, Figure, RatioTarget

SVG = "{http://www.w3.org/2000/svg}"


def figure(name: str, ratio: float | None, target: str, met: bool | None, **extra: Any) -> dict:
    return Figure(name, "the floor", 1.0, ratio, "req/s", ratio, target, met, **extra).to_dict()


REPORT: dict[str, Any] = {
    "quick": True,
    "machine": {"date": "2026-12-02T06:00:00+00:00", "cores": 2, "git_commit": "abc1234def"},
    "duration_s": 1.0,
    "benchmarks": {
        "webhooks": {
            "figures": [
                figure("Inline vs the floor, c=32", 0.72, ">= 0.85x the floor", False),
                figure("Inline vs dj-stripe, c=32", 5.4, ">= 5x dj-stripe", True),
                figure("Non-2xx answers", 0.0, "0", True),  # no ratio bound: no bar
            ],
            "error": None,
            "seconds": 1.0,
        },
        "client_overhead": {
            "figures": [
                figure("Stripe create_customer", 1.19, "<= 1.15x", False),
                figure(
                    "Loops transactional_email",
                    1.10,
                    "",
                    None,
                    target_ratio=1.15,
                    target_direction="<=",
                ),
                figure("Twilio skipped", None, "<= 1.15x", None),  # not measured: no bar
                figure("core step", 16.0, "", None),  # no target: no bar
            ],
            "error": None,
            "seconds": 1.0,
        },
        "startup": {"figures": [], "error": "crashed", "seconds": 1.0},
    },
}


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted XML)


def test_the_chart_is_svg_with_a_title_and_a_description():
    root = parsed(chart.render(REPORT))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "patchbay benchmarks: each ratio against its target"
    description = root.find(f"{SVG}desc").text
    assert "Quick run" in description
    assert "2026-12-02" in description
    assert "4 figures with a ratio target: 2 met, 2 missed." in description


def test_one_bar_per_measured_figure_with_a_ratio_target():
    root = parsed(chart.render(REPORT))

    groups = root.findall(f"{SVG}g")
    names = [group.find(f"{SVG}title").text.split(":")[0] for group in groups]
    assert names == [
        "Inline vs the floor, c=32",
        "Inline vs dj-stripe, c=32",
        "Stripe create_customer",
        "Loops transactional_email",
    ]
    for group in groups:
        assert len(group.findall(f"{SVG}rect[@class='bar']")) == 1
        assert len(group.findall(f"{SVG}line[@class='target']")) == 1


def test_missed_figures_are_marked_in_words_not_colour_alone():
    root = parsed(chart.render(REPORT))

    verdicts = {}
    for group in root.findall(f"{SVG}g"):
        name = group.find(f"{SVG}title").text.split(":")[0]
        texts = [text.text for text in group.iter(f"{SVG}text")]
        verdicts[name] = (group.get("class"), [t for t in texts if t.endswith(("met", "missed"))])
    assert verdicts == {
        "Inline vs the floor, c=32": ("figure missed", ["✗ missed"]),
        "Inline vs dj-stripe, c=32": ("figure met", ["✓ met"]),
        "Stripe create_customer": ("figure missed", ["✗ missed"]),
        "Loops transactional_email": ("figure met", ["✓ met"]),
    }
    missed, met = (
        next(g for g in root.findall(f"{SVG}g") if g.get("class") == f"figure {verdict}")
        for verdict in ("missed", "met")
    )
    assert missed.find(f"{SVG}rect").get("fill") != met.find(f"{SVG}rect").get("fill")


def test_a_bar_runs_from_one_to_its_ratio_and_the_mark_sits_at_the_target():
    report = {"benchmarks": {"w": {"figures": [figure("Inline", 0.72, ">= 0.85x", False)]}}}
    scale = chart.LogScale.around([0.72, 0.85])

    root = parsed(chart.render(report))

    rect = root.find(f".//{SVG}rect[@class='bar']")
    mark = root.find(f".//{SVG}line[@class='target']")
    assert float(rect.get("x")) == pytest.approx(scale.x(0.72), abs=0.1)
    assert float(rect.get("x")) + float(rect.get("width")) == pytest.approx(scale.x(1), abs=0.1)
    assert float(mark.get("x1")) == pytest.approx(scale.x(0.85), abs=0.1)


def test_without_a_verdict_of_its_own_a_figure_is_judged_by_its_ratio():
    report = {"benchmarks": {"w": {"figures": [figure("Inline", 0.9, ">= 0.85x", None)]}}}

    (bar,) = chart.bars(report)

    assert bar.target == RatioTarget(0.85, at_least=True)
    assert bar.met


def test_names_are_escaped():
    report = {"benchmarks": {"x": {"figures": [figure("<b> & co", 1.0, "<= 1.15x", True)]}}}

    root = parsed(chart.render(report))

    assert root.find(f"{SVG}g/{SVG}title").text.startswith(f"<b> & co: 1.00{TIMES}")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (">= 0.85x the floor", RatioTarget(0.85, at_least=True)),
        ("<= 1.15x", RatioTarget(1.15, at_least=False)),
        (f"≥ 5{TIMES} dj-stripe at c=32", RatioTarget(5.0, at_least=True)),
        (">= 2,000/s and >= 20x", RatioTarget(20.0, at_least=True)),
        ("<= 1.10x the project without patchbay", RatioTarget(1.10, at_least=False)),
        ("<= 200 ms at 1,000,000 rows", None),
        ("<= +30 ms, no SDK imported", None),
        ("0", None),
        ("", None),
    ],
)
def test_a_target_string_gives_its_ratio_bound(target, expected):
    assert Figure("f", "", None, 1.0, "", 1.0, target, None).ratio_target() == expected


def test_a_structured_target_wins_over_the_string():
    chosen = Figure(
        "f", "", None, 1.0, "", 1.0, ">= 3x", None, target_ratio=0.95, target_direction=">="
    )

    assert chosen.ratio_target() == RatioTarget(0.95, at_least=True)
    assert Figure.from_dict(chosen.to_dict()) == chosen


def test_an_old_results_file_without_the_structured_fields_still_reads():
    old = {
        "name": "f",
        "baseline": "",
        "baseline_value": None,
        "value": 1.0,
        "unit": "",
        "ratio": 1.2,
        "target": "<= 1.15x",
        "met": False,
        "notes": "",
    }

    assert Figure.from_dict(old).ratio_target() == RatioTarget(1.15, at_least=False)


def test_a_direction_other_than_at_least_or_at_most_is_refused():
    with pytest.raises(ValueError, match="target_direction"):
        Figure("f", "", None, 1.0, "", 1.0, "", None, target_ratio=1.0, target_direction="==")


def test_the_command_writes_the_svg(tmp_path: Path, capsys):
    results, out = tmp_path / "latest.json", tmp_path / "chart" / "benchmarks.svg"
    results.write_text(json.dumps(REPORT))

    assert chart.main([str(results), str(out)]) == 0

    assert parsed(out.read_text(encoding="utf-8")).tag == f"{SVG}svg"
    assert "4 figures drawn" in capsys.readouterr().out


def test_the_command_says_when_it_cannot_read_the_results(tmp_path: Path, capsys):
    assert chart.main([str(tmp_path / "missing.json"), str(tmp_path / "out.svg")]) == 1

    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "out.svg").exists()
