"""What the digest, the settings form, the help text and the home view look like, as neutral messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.charts import ChartLabels, weekly_chart
from core.domain.digest import WORK_KINDS, Digest, RoundLine
from core.domain.text import N_
from core.messages.i18n import Translator
from core.messages import drivers_seat as seat_views
from core.messages import one_thing as one_thing_views
from core.messages import stuck as stuck_views
from core.messages.llm import summarise_now_button
from core.messages.model import (Actions, Bold, Button, Choice, Context, Divider, File, Form, Header, Italic, Link,
                                 Message, Section, SelectInput, TextInput, rich)
from core.messages.rounds import ANSWER_ACTION

SETTINGS_FORM = "digest.settings"
SETTINGS_ACTION = "digest.open_settings"
MAX_LISTED = 10  # rounds per part; the rest are counted
HEADLINE_MAX = 300
HOME_ROUNDS = 30  # open rounds on the home view (3 blocks each keeps it far below 100 blocks)
HOME_SHARED = 5  # the person's own open rounds, each with "Summarise now"

WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))
KIND_NAMES = {"proactive": N_("Proactive"), "reactive": N_("Reactive"), "stuff": N_("Stuff")}

def _hours(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _title(line: RoundLine, links: dict[int, str]) -> list:
    url = links.get(line.id)
    return [Link(url, line.title) if url else Bold(line.title)]


def _round_lines(t: Translator, lines: tuple[RoundLine, ...], links: dict[int, str], *, headline: bool) -> list:
    parts: list = []
    for line in lines[:MAX_LISTED]:
        parts += ["\n• ", *_title(line, links), " — ",
                  t.gettext("{answered} of {asked} answered", answered=line.answered, asked=line.asked)]
        if headline and line.headline:
            parts += ["\n   ", Italic(line.headline[:HEADLINE_MAX])]
    if len(lines) > MAX_LISTED:
        parts += ["\n", t.ngettext("…and {n} more", "…and {n} more", len(lines) - MAX_LISTED)]
    return parts


def digest_message(t: Translator, digest: Digest, *, links: dict[int, str] | None = None,
                   chart: bool = True) -> Message:
    """The digest; each part only when it has data. `links` maps round ids to thread links where
    the platform has them; `chart` adds the PNG as a file attachment."""
    _ = t.gettext
    links = links or {}
    last_day = digest.week.first_day + timedelta(days=6)
    span = f"{t.date(digest.week.first_day, 'd MMM')} – {t.date(last_day, 'd MMM yyyy')}"
    blocks: list = [Header(_("Weekly digest")), Context(rich(span))]
    if digest.opened:
        blocks.append(Section(rich(Bold(_("Rounds opened this week")),
                                   *_round_lines(t, digest.opened, links, headline=False))))
    if digest.closed:
        blocks.append(Section(rich(Bold(_("Rounds closed this week")),
                                   *_round_lines(t, digest.closed, links, headline=True))))
    p = digest.participation
    if p.answers:
        blocks.append(Section(rich(Bold(_("Participation")), "\n",
                                   t.ngettext("{n} answer this week", "{n} answers this week", p.answers), ", ",
                                   t.ngettext("from {n} person", "from {n} people", p.answerers), " ",
                                   _("of {asked} asked.", asked=p.asked))))
    if digest.focus:
        f = digest.focus
        lines: list = [Bold(_("Focus time")), "\n",
                       _("{hours} h of focus in total.", hours=_hours(f.hours))]
        lines += [" ", _("{reached} of {people} people reached their weekly goal.",
                         reached=f.reached_goal, people=f.people)]
        total = sum(f.mix.values())
        if total:
            lines += ["\n", " · ".join(f"{_(KIND_NAMES[k])} {round(100 * f.mix.get(k, 0) / total)}%"
                                       for k in WORK_KINDS)]
        blocks.append(Section(rich(*lines)))
    if digest.meetings:
        m = digest.meetings
        blocks.append(Section(rich(Bold(_("Meeting checks")), "\n",
                                   t.ngettext("{n} meeting checked", "{n} meetings checked", m.checks), ", ",
                                   t.ngettext("{n} went async", "{n} went async", m.went_async), " — ",
                                   _("about {hours} person-hours given back.", hours=_hours(m.hours_given_back)))))
    if digest.coming:
        parts: list = [Bold(_("What's coming"))]
        for line in digest.coming[:MAX_LISTED]:
            parts += ["\n• ", *_title(line, links), " — ",
                      _("answers by {when}", when=t.datetime(line.deadline_at, digest.tz))]
        if len(digest.coming) > MAX_LISTED:
            parts += ["\n", t.ngettext("…and {n} more", "…and {n} more", len(digest.coming) - MAX_LISTED)]
        blocks.append(Section(rich(*parts)))
    blocks += one_thing_views.digest_blocks(t, digest.one_things)
    blocks += seat_views.digest_blocks(t, digest.seat_people, list(digest.seat_rated))
    if digest.agreement:
        a = digest.agreement
        parts = [Bold(_("Team agreement")), "\n", _("Version {version}", version=a.version), " · ",
                 t.ngettext("{n} open action", "{n} open actions", len(a.open_actions))]
        for text_, due in a.open_actions[:MAX_LISTED]:
            parts += ["\n• ", text_] + ([" — ", _("due {date}", date=t.date(due, "d MMMM"))] if due else [])
        blocks.append(Section(rich(*parts)))
    blocks += stuck_views.digest_blocks(t, digest.stuck_count)
    blocks.append(Context(rich(_("Team figures only: the digest never names who did or didn't answer."))))
    attachments = (chart_file(t, digest),) if chart and digest.has_chart else ()
    return Message(tuple(blocks), fallback=_("Weekly digest") + " " + span, attachments=attachments)


def chart_file(t: Translator, digest: Digest) -> File:
    _ = t.gettext
    labels = ChartLabels(weeks=tuple(t.date(p.first_day, "d MMM") for p in digest.history),
                         kinds={k: _(KIND_NAMES[k]) for k in WORK_KINDS}, hours=_("Focus hours"),
                         answers=_("Answers"), focus=_("Focus"))
    focus = [dict(p.mix, other=max(0.0, p.focus_hours - sum(p.mix.values()))) for p in digest.history]
    png = weekly_chart(focus, [p.answers for p in digest.history], labels)
    return File(name=f"digest-{digest.week.key}.png", content=png, mime="image/png",
                alt=_("Focus hours, work mix and answers over the last {n} weeks", n=len(digest.history)))


# --- settings -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SettingsValues:
    """What the settings form shows (and what comes back from it, as strings)."""

    channel: str  # the channel's platform id
    day: str  # "0".."6" or "off"
    at: str  # "HH:MM"
    tz: str
    language: str  # "en" | "nl"
    focus_goal: str | None = None  # hours; None: the focus feature isn't there
    llm: str | None = None  # "on" | "off"; None: not shown (not a workspace admin)


def time_choices() -> tuple[Choice, ...]:
    return tuple(Choice(f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}") for h in range(24) for m in (0, 30))


def settings_form(t: Translator, values: SettingsValues, errors: dict[str, str] | None = None) -> Form:
    _ = t.gettext
    days = tuple(Choice(str(i), _(name)) for i, name in enumerate(WEEKDAYS)) + (Choice("off", _("No digest")),)
    inputs: list = [
        SelectInput("day", _("Digest day"), days, values.day),
        SelectInput("at", _("Digest time"), time_choices(), values.at),
        TextInput("tz", _("Time zone"), values.tz, max_length=64,
                  hint=_("A time zone name such as Europe/Brussels or America/New_York.")),
        SelectInput("language", _("Language"), (Choice("en", "English"), Choice("nl", "Nederlands")),
                    values.language, radio=True),
    ]
    if values.focus_goal is not None:
        inputs.append(TextInput("focus_goal", _("Weekly focus goal (hours)"), values.focus_goal, max_length=5))
    if values.llm is not None:
        inputs.append(SelectInput("llm", _("AI summaries for this workspace"),
                                  (Choice("on", _("On")), Choice("off", _("Off"))), values.llm, radio=True))
    return Form(id=SETTINGS_FORM, title=_("Channel settings"), submit=_("Save"), close=_("Cancel"),
                inputs=tuple(inputs), metadata=values.channel, errors=errors or {},
                intro=(Section(rich(_("The weekly digest for this channel: when it is posted and in which "
                                      "language."))),))


# --- help -----------------------------------------------------------------------------------------
def help_message(t: Translator, commands: tuple[tuple[str, str], ...]) -> Message:
    """`commands` are (how to type it, what it does — an English message id) pairs from the platform."""
    lines: list = [Bold(t.gettext("What unmeet can do"))]
    for usage, what in commands:
        lines += ["\n• ", Bold(usage), " — ", t.gettext(what)]
    return Message((Section(rich(*lines)),), fallback=t.gettext("What unmeet can do"))


# --- home -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HomeRound:
    id: int
    title: str
    deadline_at: datetime


@dataclass(frozen=True)
class HomeFocus:
    hours: float
    goal_hours: float | None


@dataclass(frozen=True)
class HomeMeeting:
    title: str
    outcome: str  # already in the person's language


@dataclass(frozen=True)
class Home:
    rounds: tuple[HomeRound, ...]
    rounds_total: int
    tz: str | None
    focus: HomeFocus | None = None
    meetings: tuple[HomeMeeting, ...] = ()
    shared: tuple[HomeRound, ...] = ()  # open rounds the person shared
    one_thing: tuple = ()  # the One Thing's section, already in the person's language (core.messages.one_thing)
    drivers_seat: tuple = ()  # the Driver's Seat's section, likewise (core.messages.drivers_seat)
    programme: tuple = ()  # a coach's or a participant's programme, likewise (core.messages.programmes)


def home_view(t: Translator, home: Home) -> Message:
    """The person's home: rounds to answer, focus this week, recent meeting checks, settings."""
    _ = t.gettext
    blocks: list = [Header(_("Your rounds to answer"))]
    if not home.rounds:
        blocks.append(Section(rich(_("Nothing to answer right now."))))
    for item in home.rounds:
        blocks.append(Section(rich(Bold(item.title), "\n",
                                   _("answers by {when}", when=t.datetime(item.deadline_at, home.tz)))))
        blocks.append(Actions((Button(_("Answer"), ANSWER_ACTION, str(item.id), style="primary"),)))
    if home.rounds_total > len(home.rounds):
        blocks.append(Context(rich(t.ngettext("…and {n} more", "…and {n} more",
                                              home.rounds_total - len(home.rounds)))))
    if home.shared:
        blocks += [Divider(), Header(_("Your open rounds"))]
    for item in home.shared:
        blocks.append(Section(rich(Bold(item.title), "\n",
                                   _("answers by {when}", when=t.datetime(item.deadline_at, home.tz)))))
        blocks.append(Actions((summarise_now_button(t, item.id),)))
    if home.focus is not None:
        blocks += [Divider(), Header(_("Your focus this week"))]
        text = _("{hours} h of focus", hours=_hours(home.focus.hours))
        if home.focus.goal_hours:
            text = _("{hours} h of your {goal} h goal", hours=_hours(home.focus.hours),
                     goal=_hours(home.focus.goal_hours))
        blocks.append(Section(rich(text)))
    if home.meetings:
        blocks += [Divider(), Header(_("Your recent meeting checks"))]
        blocks.append(Section(rich(*[part for m in home.meetings for part in ("• ", m.title, " — ", m.outcome,
                                                                              "\n")][:-1])))
    blocks += home.one_thing
    blocks += home.drivers_seat
    blocks += home.programme
    blocks += [Divider(), Actions((Button(_("Channel settings"), SETTINGS_ACTION),))]
    return Message(tuple(blocks), fallback=_("Your rounds to answer"))


def empty_week(t: Translator) -> str:
    return t.gettext("Nothing to report for this channel yet this week.")
