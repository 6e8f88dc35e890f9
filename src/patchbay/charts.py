"""Server-rendered SVG bar charts for the health dashboard: no script, no CDN.

Each chart reads without colour: calls are hatched bars, errors solid bars
with a dot pattern drawn in front of them, the legend shows both swatches
with their names, and every hour has a ``<title>`` with its numbers (the
dashboard also gives them as a table).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from patchbay.dashboard import HourStats

WIDTH, HEIGHT = 480, 160
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 24, 22


def calls_chart(provider: str, hours: Sequence[HourStats]) -> SafeString:
    """Calls and errors per hour of one service, as an accessible inline SVG."""
    ids = {"calls": f"pb-{provider}-calls", "errors": f"pb-{provider}-errors"}
    top = max((hour.calls for hour in hours), default=0)
    scale = _nice(top)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(1, len(hours))
    width = f"{max(1.0, slot - 2):.1f}"
    bars = format_html_join(
        "",
        '<g class="pb-hour"><title>{}</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="url(#{})" stroke="#555"'
        ' stroke-width="0.5"></rect>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="url(#{})"></rect></g>',
        (
            (
                _hour_title(hour),
                f"{x:.1f}",
                f"{TOP + plot_height - calls_height:.1f}",
                width,
                f"{calls_height:.1f}",
                ids["calls"],
                f"{x:.1f}",
                f"{TOP + plot_height - errors_height:.1f}",
                width,
                f"{errors_height:.1f}",
                ids["errors"],
            )
            for x, hour, calls_height, errors_height in (
                (
                    LEFT + index * slot + 1,
                    hour,
                    plot_height * hour.calls / scale if scale else 0.0,
                    plot_height * hour.errors / scale if scale else 0.0,
                )
                for index, hour in enumerate(hours)
            )
        ),
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
        (
            (f"{LEFT + index * slot + slot / 2:.1f}", HEIGHT - 6, f"{hour.hour:%H}:00")
            for index, hour in enumerate(hours)
            if index % 6 == 0 or index == len(hours) - 1
        ),
    )
    total_calls = sum(hour.calls for hour in hours)
    total_errors = sum(hour.errors for hour in hours)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="pb-chart" role="img" '
        'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'aria-labelledby="{calls_id}-title">'
        '<title id="{calls_id}-title">{summary}</title>'
        "<defs>"
        '<pattern id="{calls_id}" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#cfe0ef"></rect>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#417690" stroke-width="2"></line></pattern>'
        '<pattern id="{errors_id}" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" fill="#ba2121"></rect>'
        '<circle cx="2" cy="2" r="1" fill="#fff"></circle></pattern>'
        "</defs>"
        '<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"></line>'
        '<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#333"></line>'
        '<text x="{label_x}" y="{top_label}" font-size="10" text-anchor="end">{scale}</text>'
        '<text x="{label_x}" y="{bottom}" font-size="10" text-anchor="end">0</text>'
        "{bars}{labels}"
        '<g font-size="10"><rect x="{legend_x}" y="4" width="10" height="10" '
        'fill="url(#{calls_id})" stroke="#555" stroke-width="0.5"></rect>'
        '<text x="{legend_text}" y="13">calls</text>'
        '<rect x="{legend_x2}" y="4" width="10" height="10" fill="url(#{errors_id})"></rect>'
        '<text x="{legend_text2}" y="13">errors</text></g>'
        "</svg>",
        width=WIDTH,
        height=HEIGHT,
        calls_id=ids["calls"],
        errors_id=ids["errors"],
        summary=f"{provider}: {total_calls} calls, {total_errors} errors in the last "
        f"{len(hours)} hours",
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=TOP + plot_height,
        label_x=LEFT - 4,
        top_label=TOP + 8,
        scale=scale,
        bars=bars,
        labels=labels,
        legend_x=WIDTH - RIGHT - 110,
        legend_text=WIDTH - RIGHT - 96,
        legend_x2=WIDTH - RIGHT - 55,
        legend_text2=WIDTH - RIGHT - 41,
    )


def _hour_title(hour: HourStats) -> str:
    return f"{hour.hour:%Y-%m-%d %H}:00 UTC: {hour.calls} calls, {hour.errors} errors"


def _nice(top: int) -> int:
    """The chart's scale: ``top`` rounded up to 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return 0
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= top:
                return step * factor
        step *= 10
