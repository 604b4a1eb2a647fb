"""The digest chart as PNG bytes (matplotlib with the Agg backend: no display, no platform SDK).

Stacked bars: focus hours per week split by the kind of work; a line: answers per week. Labels come
in already translated, so the chart speaks the channel's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

COLOURS = {"proactive": "#2e7d32", "reactive": "#f9a825", "stuff": "#90a4ae", "focus": "#2e7d32"}
ANSWERS_COLOUR = "#1565c0"


@dataclass(frozen=True)
class ChartLabels:
    weeks: tuple[str, ...]  # one label per bar, e.g. "30 nov."
    kinds: dict[str, str]  # work kind -> its name in the channel's language
    hours: str  # the left axis
    answers: str  # the line and the right axis
    focus: str  # the bar when there is no split by kind


def weekly_chart(focus: list[dict[str, float]], answers: list[int], labels: ChartLabels) -> bytes:
    """`focus[i]` maps a work kind to hours in week i (an "other" kind holds hours without a kind)."""
    # Imported here: matplotlib takes a second to import, and only the weekly digest needs it.
    from matplotlib.figure import Figure  # a Figure without pyplot uses the Agg canvas: no display needed

    figure = Figure(figsize=(6.4, 3.0), dpi=100)
    axis = figure.add_subplot()
    positions = range(len(labels.weeks))
    bottoms = [0.0] * len(focus)
    kinds = [k for k in ("proactive", "reactive", "stuff") if any(week.get(k) for week in focus)]
    untyped = [week.get("other", 0.0) for week in focus]
    series = [(labels.kinds[k], [week.get(k, 0.0) for week in focus], COLOURS[k]) for k in kinds]
    if any(untyped):
        series.append((labels.focus, untyped, COLOURS["focus"] if not kinds else "#a5d6a7"))
    for name, values, colour in series:
        axis.bar(positions, values, bottom=bottoms, color=colour, label=name, width=0.6)
        bottoms = [b + v for b, v in zip(bottoms, values)]
    axis.set_ylabel(labels.hours)
    axis.set_xticks(list(positions), labels.weeks, fontsize=8)
    axis.spines[["top", "right"]].set_visible(False)
    handles, names = axis.get_legend_handles_labels()
    if any(answers):
        line_axis = axis.twinx()
        (line,) = line_axis.plot(list(positions), answers, color=ANSWERS_COLOUR, marker="o", label=labels.answers)
        line_axis.set_ylabel(labels.answers)
        line_axis.set_ylim(bottom=0)
        line_axis.spines[["top"]].set_visible(False)
        handles, names = handles + [line], names + [labels.answers]
    if handles:
        axis.legend(handles, names, fontsize=8, loc="upper left", frameon=False)
    figure.tight_layout()
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
