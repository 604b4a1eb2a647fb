"""What programme mode looks like to people: the coach's setup form, the coach's overview, the export,
a participant's assignment DM and its reminder, a participant's own view, and the coach's briefing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.domain.programmes import MAX_ASSIGNMENTS, NAME_MAX, TITLE_MAX, State
from core.messages.i18n import Translator
from core.messages.model import (Actions, Bold, Button, ChannelInput, Context, DateInput, Divider, File, Form, Header,
                                 Message, Section, TextInput, rich)

SETUP_FORM = "programme.setup"
STATUS_ACTION = "programme.status"  # the Home's and the briefing's "Programme status"
INPUT_LIMIT = 3000
MARKS = {State.DONE: "✅", State.LATE: "⚠️", State.OPEN: "⏳", State.NOT_YET: "·"}


def text(message: str) -> Message:
    return Message((Section(rich(message)),), fallback=message)


def state_label(t: Translator, state: str) -> str:
    _ = t.gettext
    return {State.DONE: _("done"), State.LATE: _("late"), State.OPEN: _("open"),
            State.NOT_YET: _("not yet")}.get(state, state)


@dataclass(frozen=True)
class Cell:
    state: State
    shared: bool = False  # what the participant shared with the coach (a Driver's Seat run)


@dataclass(frozen=True)
class Overview:
    name: str
    sessions: tuple[datetime, ...]
    titles: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]  # (participant's name, one cell per assignment)
    waiting: bool = False  # the cohort is still being read from the channel


def setup_form(t: Translator, *, name: str, channel_id: str | None, dates: tuple[date | None, ...],
               titles: tuple[str, ...], metadata: str, errors: dict[str, str] | None = None) -> Form:
    _ = t.gettext
    inputs: list = [TextInput("name", _("Name"), name, max_length=INPUT_LIMIT if errors else NAME_MAX),
                    ChannelInput("channel", _("Cohort: the members of this channel"), channel_id or None)]
    inputs += [DateInput(f"session{n}", _("Session {number}", number=n), day) for n, day in enumerate(dates, 1)]
    inputs += [TextInput(f"assignment{i}", _("Assignment {number}", number=i + 1), title, optional=True,
                         max_length=INPUT_LIMIT if errors else TITLE_MAX)
               for i, title in enumerate(titles[:MAX_ASSIGNMENTS])]
    intro = (Context(rich(_("Sessions start at 9:00 your time. Each assignment reaches the cohort by direct message "
                            "when its session starts; empty one to drop it. It counts as done when the person does "
                            "it in the app, nobody ticks a box."))),)
    return Form(SETUP_FORM, _("New programme"), _("Set up"), _("Cancel"), tuple(inputs), intro=intro,
                metadata=metadata, errors=errors or {})


def set_up(t: Translator, name: str, sessions: list[datetime], tz: str | None) -> Message:
    _ = t.gettext
    line = _("“{name}” is set up. Its members get each assignment by direct message when its session starts.",
             name=name)
    when = " · ".join(t.datetime(at, tz, "d MMM yyyy") for at in sessions)
    return Message((Section(rich(line)), Context(rich(_("Sessions: {dates}", dates=when))),
                    Context(rich(_("`/programme status` shows who did what; `/programme export` gives it as CSV.")))),
                   fallback=line)


def overview(t: Translator, view: Overview, tz: str | None, *, limit: int | None = None) -> Message:
    """Participants × assignments; `limit`: at most this many participants' rows (the Home)."""
    _ = t.gettext
    when = " · ".join(t.datetime(at, tz, "d MMM") for at in view.sessions)
    blocks: list = [Header(view.name), Context(rich(_("Sessions: {dates}", dates=when)))]
    legend = " ".join(f"{MARKS[s]} {state_label(t, s)}" for s in (State.DONE, State.OPEN, State.LATE, State.NOT_YET))
    blocks.append(Section(rich(*[part for i, title in enumerate(view.titles, 1)
                                 for part in (Bold(f"{i}."), f" {title}\n")])))
    blocks.append(Divider())
    if view.waiting:
        blocks.append(Section(rich(_("The cohort is being read from the channel; ask again in a minute."))))
    elif not view.rows:
        blocks.append(Section(rich(_("Nobody is in the cohort: the channel has no other members."))))
    for who, cells in view.rows[:limit]:
        marks = "  ".join(f"{i}{MARKS[c.state]}" + (" (" + _("shared with you") + ")" if c.shared else "")
                          for i, c in enumerate(cells, 1))
        blocks.append(Section(rich(Bold(who), "  ", marks)))
    if limit is not None and len(view.rows) > limit:
        blocks.append(Context(rich(t.ngettext("…and {n} more: “Programme status” shows everyone.",
                                              "…and {n} more: “Programme status” shows everyone.",
                                              len(view.rows) - limit))))
    blocks.append(Context(rich(legend)))
    blocks.append(Context(rich(_("You see what each person did in the app and what they shared with you; their "
                                 "answers, One Thing and stuck moments stay theirs."))))
    return Message(tuple(blocks), fallback=_("Programme status: {name}", name=view.name))


def home_blocks(t: Translator, section: Message, *, coach: bool) -> tuple:
    """The Home's programme section: the coach's overview of their newest programme, or a participant's
    own assignments, and the button to the full status."""
    return (Divider(), *section.blocks, Actions((Button(t.gettext("Programme status"), STATUS_ACTION),))) \
        if coach else (Divider(), *section.blocks)


def mine(t: Translator, name: str, items: list[tuple[str, State, datetime]], tz: str | None) -> Message:
    """A participant's own assignments."""
    _ = t.gettext
    blocks: list = [Header(name)]
    for title, state, due in items:
        blocks.append(Section(rich(f"{MARKS[state]} ", Bold(title), " — ", state_label(t, state), " · ",
                                   _("before {date}", date=t.datetime(due, tz, "d MMM")))))
    return Message(tuple(blocks), fallback=name)


def assignment_dm(t: Translator, *, programme: str, title: str, how: str, start: str | None, due: datetime,
                  tz: str | None, reminder: bool = False) -> Message:
    _ = t.gettext
    due_text = t.datetime(due, tz, "EEEE d MMMM")
    head = _("Reminder from “{programme}”: before the next session, on {date}", programme=programme, date=due_text) \
        if reminder else _("Your assignment for “{programme}”, before the next session on {date}",
                           programme=programme, date=due_text)
    blocks: list = [Section(rich(head)), Section(rich(Bold(title), *(("\n", how) if how else ())))]
    if start:
        blocks.append(Actions((Button(_("Start"), start, style="primary"),)))
    blocks.append(Context(rich(_("It counts as done when you do it in the app; there is nothing to tick."))))
    return Message(tuple(blocks), fallback=f"{head}: {title}")


def briefing(t: Translator, *, programme: str, session: int, at: datetime, tz: str | None, titles: tuple[str, ...],
             counts: list[dict[State, int]], people: int, shared_runs: int, themes: tuple[str, ...] = (),
             questions: tuple[str, ...] = ()) -> Message:
    """The figures; with the model on, `themes` and `questions` from what the cohort shared with the coach."""
    _ = t.gettext
    head = _("Briefing for session {number} of “{programme}”, {date}", number=session, programme=programme,
             date=t.datetime(at, tz))
    lines = []
    for title, count in zip(titles, counts):
        lines.append(_("{title}: {done} of {people} done ({late} late)", title=title,
                       done=count.get(State.DONE, 0) + count.get(State.LATE, 0), people=people,
                       late=count.get(State.LATE, 0)))
    blocks: list = [Section(rich(Bold(head))), Section(rich("\n".join(f"• {line}" for line in lines)))]
    if shared_runs:
        blocks.append(Context(rich(t.ngettext("{n} Driver's Seat week is shared with you.",
                                              "{n} Driver's Seat weeks are shared with you.", shared_runs))))
    if themes:
        blocks.append(Section(rich(Bold(_("What the cohort shared with you")), "\n",
                                   "\n".join(f"• {theme}" for theme in themes))))
    if questions:
        blocks.append(Section(rich(Bold(_("Questions for the session")), "\n",
                                   "\n".join(f"• {question}" for question in questions))))
    if themes or questions:
        blocks.append(Context(rich(_("Written by the AI model from what was shared with you, without names; check "
                                     "it before you use it."))))
    blocks.append(Actions((Button(_("Programme status"), STATUS_ACTION),)))
    return Message(tuple(blocks), fallback=head)


def export_message(t: Translator, name: str, csv_text: str, filename: str) -> Message:
    line = t.gettext("The status of “{name}” as CSV.", name=name)
    return Message((Section(rich(line)),), fallback=line,
                   attachments=(File(name=filename, content=csv_text.encode("utf-8"), mime="text/csv", alt=line),))
