"""Draw each figure that has a ratio target against that target, as an SVG.

    python -m benchmarks.chart                        # latest.json -> docs/_static/benchmarks.svg
    python -m benchmarks.chart results.json out.svg

It reads the JSON that ``python -m benchmarks.run`` writes. The SVG is built by hand
(no plotting library to install) and reads without colour: every bar has its ratio,
its target and "met" or "missed" written beside it, and a ``<title>`` of its own.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from benchmarks.common import ROOT, TIMES, Figure, RatioTarget
from benchmarks.run import DEFAULT_JSON

DEFAULT_SVG = ROOT / "docs" / "_static" / "benchmarks.svg"

# Colours a reader with a red-green deficiency tells apart; the text says it anyway.
MET_COLOUR = "#1f6fb4"
MISSED_COLOUR = "#d95f02"
INK = "#222222"
GREY = "#666666"

WIDTH = 980
LABEL_WIDTH = 330  # figure names and their baselines
PLOT_LEFT = LABEL_WIDTH + 10
PLOT_WIDTH = 290
VERDICT_LEFT = PLOT_LEFT + PLOT_WIDTH + 14
ROW_HEIGHT = 38
GROUP_HEIGHT = 26
TOP = 78  # title, subtitle and the axis labels above the rows
FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Bar:
    """One figure with a ratio target: what the chart draws for it."""

    benchmark: str
    name: str
    baseline: str
    ratio: float
    target: RatioTarget
    target_text: str
    met: bool

    @property
    def verdict(self) -> str:
        return "met" if self.met else "missed"

    def sentence(self) -> str:
        whole = f" ({self.target_text})" if self.target_text else ""
        return (
            f"{self.name}: {self.ratio:.2f}{TIMES} against a target of {self.target}{whole}, "
            f"{self.verdict}"
        )


def bars(report: Mapping[str, Any]) -> list[Bar]:
    """The figures of ``report`` that were measured and have a ratio target, in its order.

    The verdict is the benchmark's own ``met`` when it gave one (a target may bound more
    than the ratio, e.g. a rate too), else the ratio against the target.
    """
    found = []
    for benchmark, result in report.get("benchmarks", {}).items():
        for data in result.get("figures", []):
            figure = Figure.from_dict(data)
            target = figure.ratio_target()
            if target is None or figure.ratio is None:
                continue
            met = target.met_by(figure.ratio) if figure.met is None else figure.met
            found.append(
                Bar(
                    benchmark,
                    figure.name,
                    figure.baseline,
                    figure.ratio,
                    target,
                    figure.target,
                    met,
                )
            )
    return found


@dataclass(frozen=True)
class LogScale:
    """Ratios to x positions, logarithmically: 0.5x and 2x are as far from 1x."""

    low: float
    high: float

    @classmethod
    def around(cls, values: list[float]) -> LogScale:
        low = min([1.0, *values]) / 1.3
        high = max([1.0, *values]) * 1.3
        return cls(low, high)

    def x(self, ratio: float) -> float:
        ratio = min(max(ratio, self.low), self.high)
        share = math.log(ratio / self.low) / math.log(self.high / self.low)
        return PLOT_LEFT + share * PLOT_WIDTH

    def ticks(self) -> list[float]:
        """1, 2 and 5 times the powers of ten inside the scale."""
        found = []
        for power in range(math.floor(math.log10(self.low)), math.ceil(math.log10(self.high)) + 1):
            for step in (1, 2, 5):
                tick = step * 10.0**power
                if self.low <= tick <= self.high:
                    found.append(tick)
        return found


def _text(x: float, y: float, content: str, **attributes: str) -> str:
    extra = "".join(
        f" {name.replace('_', '-')}={quoteattr(value)}" for name, value in attributes.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _readable(target: str) -> str:
    """``>= 0.85x the floor`` with the signs of print: ``≥ 0.85`` and the multiplication sign."""
    target = target.replace(">=", "≥").replace("<=", "≤")
    return re.sub(r"(\d)x(?![a-z])", rf"\1{TIMES}", target)


def _tick_label(tick: float) -> str:
    return f"{tick:g}{TIMES}"


def _subtitle(report: Mapping[str, Any]) -> str:
    machine = report.get("machine", {})
    kind = "Quick run (a smoke run: short, noisy)" if report.get("quick") else "Full run"
    parts = [f"{kind} of {str(machine.get('date', 'an unknown date'))[:10]}"]
    if machine.get("cores"):
        parts.append(f"{machine['cores']} cores")
    if machine.get("git_commit"):
        parts.append(f"commit {str(machine['git_commit'])[:10]}")
    return ", ".join(parts) + f". Ratios on a log scale; 1{TIMES} is the baseline."


def _rows(found: list[Bar], scale: LogScale) -> Iterator[str]:
    y = TOP
    benchmark = None
    one = scale.x(1.0)
    for bar in found:
        if bar.benchmark != benchmark:
            benchmark = bar.benchmark
            y += GROUP_HEIGHT
            yield _text(10, y - 8, benchmark.replace("_", " "), font_weight="bold", fill=INK)
        middle = y + ROW_HEIGHT / 2
        colour = MET_COLOUR if bar.met else MISSED_COLOUR
        end = scale.x(bar.ratio)
        target_x = scale.x(bar.target.bound)
        yield f'<g class="figure {bar.verdict}">'
        yield f"<title>{escape(bar.sentence())}</title>"
        yield _text(20, middle - 3, _short(bar.name, 52), fill=INK)
        if bar.baseline:
            yield _text(
                20, middle + 12, _short(f"vs {bar.baseline}", 58), fill=GREY, font_size="11"
            )
        yield (
            f'<rect class="bar" x="{min(one, end):.1f}" y="{middle - 8:.1f}" '
            f'width="{max(abs(end - one), 1.5):.1f}" height="16" fill="{colour}"/>'
        )
        yield (
            f'<line class="target" x1="{target_x:.1f}" y1="{middle - 13:.1f}" '
            f'x2="{target_x:.1f}" y2="{middle + 13:.1f}" stroke="{INK}" stroke-width="2.5"/>'
        )
        sign = "✓" if bar.met else "✗"
        yield _text(
            VERDICT_LEFT, middle + 4, f"{bar.ratio:.2f}{TIMES}", fill=INK, font_weight="bold"
        )
        yield _text(
            VERDICT_LEFT + 62, middle + 4, f"{sign} {bar.verdict}", fill=colour, font_weight="bold"
        )
        # The whole target: it may bound more than the ratio (">= 2,000/s and >= 20x").
        target = _short(_readable(bar.target_text) or str(bar.target), 30)
        yield _text(VERDICT_LEFT + 135, middle + 4, f"target {target}", fill=INK)
        yield "</g>"
        y += ROW_HEIGHT


def render(report: Mapping[str, Any]) -> str:
    """The SVG document for ``report`` (the runner's JSON, parsed)."""
    found = bars(report)
    scale = LogScale.around([value for bar in found for value in (bar.ratio, bar.target.bound)])
    groups = len({bar.benchmark for bar in found})
    height = TOP + groups * GROUP_HEIGHT + len(found) * ROW_HEIGHT + 46
    missed = [bar for bar in found if not bar.met]
    summary = (
        f"{len(found)} figures with a ratio target: {len(found) - len(missed)} met, "
        f"{len(missed)} missed. " + " ".join(f"{bar.sentence()}." for bar in found)
    )
    bottom = height - 46
    lines = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title chart-desc" '
            f'font-family="{FONT}" font-size="12.5">'
        ),
        '<title id="chart-title">patchbay benchmarks: each ratio against its target</title>',
        f'<desc id="chart-desc">{escape(_subtitle(report))} {escape(summary)}</desc>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(
            10,
            24,
            "patchbay against its baselines: each ratio and its target",
            font_size="16",
            font_weight="bold",
            fill=INK,
        ),
        _text(10, 44, _subtitle(report), fill=GREY),
    ]
    for tick in scale.ticks():
        x = scale.x(tick)
        dash = "" if tick == 1 else ' stroke-dasharray="3 3"'
        colour = INK if tick == 1 else "#cccccc"
        lines.append(
            f'<line class="tick" x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{bottom:.1f}" '
            f'stroke="{colour}"{dash}/>'
        )
        lines.append(_text(x, TOP - 10, _tick_label(tick), text_anchor="middle", fill=GREY))
    lines.extend(_rows(found, scale))
    legend_y = height - 18
    lines += [
        f'<rect x="10" y="{legend_y - 10}" width="14" height="12" fill="{MET_COLOUR}"/>',
        _text(30, legend_y, "met", fill=INK),
        f'<rect x="70" y="{legend_y - 10}" width="14" height="12" fill="{MISSED_COLOUR}"/>',
        _text(90, legend_y, "missed", fill=INK),
        (
            f'<line x1="150" y1="{legend_y - 12}" x2="150" y2="{legend_y + 2}" stroke="{INK}" '
            'stroke-width="2.5"/>'
        ),
        _text(
            158,
            legend_y,
            "the target: a ≥ target is met at or right of it, a ≤ target at or left",
            fill=INK,
        ),
        "</svg>",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 2 or any(arg.startswith("-") for arg in args):
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(args[0]) if args else DEFAULT_JSON
    out = Path(args[1]) if len(args) > 1 else DEFAULT_SVG
    try:
        report = json.loads(source.read_text())
    except (OSError, ValueError) as exc:
        print(f"cannot read {source}: {exc}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report), encoding="utf-8")
    print(f"{len(bars(report))} figures drawn to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
