"""What the Driver's Seat looks like to people: the run's overview, the morning and evening DMs and
their forms, the day card and the week card (the participant's and their coach's), the coach's
feedback form, the Home section and the digest's lines."""

from __future__ import annotations

from datetime import date

from core.domain.drivers_seat import FEEDBACK_MAX, KINDS, TASK_MAX, WHY_MAX, Rating, green_share, percent
from core.messages.focus import category_label
from core.messages.i18n import Translator
from core.messages.model import (Actions, Block, Bold, Button, Choice, Context, Divider, Form, Header, Message,
                                 Section, SelectInput, TextInput, rich)
from core.persistence.drivers_seat import DayRow, RunRow

START_ACTION = "seat.start"  # the Home's and the overview's "Start a week"
PLAN_ACTION = "seat.plan"  # value "{run}:{day}": the morning form
SKIP_ACTION = "seat.skip"  # value "{run}:{day}": not counted
RATE_ACTION = "seat.rate"  # value "{run}:{day}": the evening form
FEEDBACK_ACTION = "seat.feedback"  # value "{run}": the coach's form
DRAFT_ACTION = "seat.draft"  # in the coach's form, with the LLM on
TASKS_FORM = "seat.tasks_form"
RATINGS_FORM = "seat.ratings_form"
FEEDBACK_FORM = "seat.feedback_form"
INPUT_LIMIT = 3000  # the platforms' input ceiling: a too-long text comes back whole, with the sentence
DOTS = {Rating.GREEN: "🟢", Rating.ORANGE: "🟠", Rating.RED: "🔴"}
UNRATED = "⚪"


def text(message: str) -> Message:
    return Message((Section(rich(message)),), fallback=message)


def rating_label(t: Translator, rating: str) -> str:
    _ = t.gettext
    return {Rating.GREEN: _("green"), Rating.ORANGE: _("orange"), Rating.RED: _("red")}.get(rating, rating)


def _day_label(t: Translator, day: date) -> str:
    return t.date(day, "EEEE d MMMM")


def _task_line(t: Translator, task) -> str:
    line = f"{DOTS.get(task.rating, UNRATED)} {category_label(t, task.kind)}: {task.text}"
    return line + (f" — {task.why}" if task.why else "")


def _day_blocks(t: Translator, row: DayRow) -> list[Block]:
    head = Bold(_day_label(t, row.day))
    if row.skipped:
        return [Section(rich(head, "\n", t.gettext("Skipped: not counted.")))]
    if not row.tasks:
        return [Section(rich(head, "\n", t.gettext("No tasks named.")))]
    return [Section(rich(head, "\n", "\n".join(_task_line(t, task) for task in row.tasks)))]


def _shares_line(t: Translator, rows: list[DayRow]) -> str:
    shares = green_share([(task.kind, task.rating) for row in rows for task in row.tasks if task.rating])
    parts = [t.gettext("{kind} {percent}% green", kind=category_label(t, kind), percent=percent(shares[kind]))
             if shares[kind] is not None else t.gettext("{kind} not rated", kind=category_label(t, kind))
             for kind in KINDS]
    return " · ".join(parts)


def _progress(t: Translator, run: RunRow, rows: list[DayRow]) -> str:
    rated = sum(1 for row in rows if row.rated_at is not None and not row.skipped)
    return t.ngettext("{rated} of {n} day rated", "{rated} of {n} days rated", run.days, rated=rated)


# --- the overview, the Home ----------------------------------------------------------------------------
def nothing_yet(t: Translator) -> Message:
    _ = t.gettext
    line = _("The Driver's Seat: for a week, name three tasks each morning — proactive, reactive and stuff — and "
             "rate them green, orange or red at the end of the day.")
    return Message((Section(rich(line)), Actions((Button(_("Start a week"), START_ACTION, style="primary"),)),
                    Context(rich(_("`/drivers-seat start 3` for a shorter run.")))), fallback=line)


def overview(t: Translator, run: RunRow, rows: list[DayRow], coach: str | None, days: tuple[date, ...]) -> Message:
    """`/drivers-seat` alone: the run so far."""
    _ = t.gettext
    state = _("Your run: {first} to {last}.", first=_day_label(t, days[0]), last=_day_label(t, days[-1])) \
        if run.current else _("Your last run, ended.")
    blocks: list = [Header(_("Driver's Seat")), Section(rich(state, " ", _progress(t, run, rows)))]
    for row in rows:
        blocks += _day_blocks(t, row)
    if any(row.rated_at for row in rows):
        blocks.append(Context(rich(_shares_line(t, rows))))
    blocks.append(Context(rich(_("Shared with {name}.", name=coach) if coach else _("Only you see it."))))
    if not run.current:
        blocks.append(Actions((Button(_("Start a week"), START_ACTION, style="primary"),)))
    return Message(tuple(blocks), fallback=_("Driver's Seat"))


def started(t: Translator, run: RunRow, days: tuple[date, ...]) -> Message:
    _ = t.gettext
    line = t.ngettext("Your Driver's Seat run has started: {n} working day, from {first}.",
                      "Your Driver's Seat run has started: {n} working days, from {first} to {last}.",
                      run.days, first=_day_label(t, days[0]), last=_day_label(t, days[-1]))
    return Message((Section(rich(line)),
                    Context(rich(_("Each morning I'll ask for three tasks; at the end of the day, how they went. "
                                   "Missing a day is fine. Share it with a coach: `/drivers-seat share @coach`.")))),
                   fallback=line)


def already_running(t: Translator) -> Message:
    return text(t.gettext("You already have a run going. `/drivers-seat` shows it; `/drivers-seat stop` ends it."))


def stopped(t: Translator) -> Message:
    return text(t.gettext("Your Driver's Seat run has ended. No more morning or evening questions."))


def no_run(t: Translator) -> Message:
    return text(t.gettext("You have no Driver's Seat run going. `/drivers-seat start` starts one."))


def shared(t: Translator, coach: str) -> Message:
    return text(t.gettext("Your run is shared with {name}: they get each day's card as it completes, and the week "
                          "card. `/drivers-seat unshare` stops it.", name=coach))


def unshared(t: Translator, was_shared: bool) -> Message:
    return text(t.gettext("Your run is no longer shared. Nobody else gets its cards.") if was_shared
                else t.gettext("Your run wasn't shared with anyone."))


def home_blocks(t: Translator, run: RunRow | None, rows: list[DayRow], days: tuple[date, ...]) -> tuple[Block, ...]:
    _ = t.gettext
    blocks: list = [Divider(), Header(_("Driver's Seat"))]
    if run is None or not run.current:
        blocks += [Section(rich(_("Three tasks a morning, rated at the end of the day, for a week."))),
                   Actions((Button(_("Start a week"), START_ACTION, style="primary"),))]
        return tuple(blocks)
    blocks.append(Section(rich(_("Your run: {first} to {last}.", first=_day_label(t, days[0]),
                                 last=_day_label(t, days[-1])), " ", _progress(t, run, rows))))
    for row in rows[-2:]:
        blocks += _day_blocks(t, row)
    return tuple(blocks)


# --- the morning ---------------------------------------------------------------------------------------
def morning_dm(t: Translator, run: RunRow, day: date) -> Message:
    _ = t.gettext
    line = _("Good morning! Which three tasks put you in the driver's seat today? One proactive, one reactive, one "
             "stuff.")
    value = f"{run.id}:{day.isoformat()}"
    return Message((Section(rich(line)),
                    Actions((Button(_("Name my three tasks"), PLAN_ACTION, value, style="primary"),
                             Button(_("I'm out today"), SKIP_ACTION, value))),
                    Context(rich(_("A day you're out is not counted.")))), fallback=line)


def tasks_form(t: Translator, *, metadata: str, day: date, kinds: tuple[str, ...], texts: tuple[str, ...],
               errors: dict[str, str] | None = None) -> Form:
    _ = t.gettext
    choices = tuple(Choice(kind.value, category_label(t, kind)) for kind in KINDS)
    inputs: list = []
    for index, (kind, value) in enumerate(zip(kinds, texts), start=1):
        inputs += [TextInput(f"task{index}", _("Task {n}", n=index), value, max_length=INPUT_LIMIT,
                             hint=_("One line, at most {max} characters.", max=TASK_MAX)),
                   SelectInput(f"kind{index}", _("Kind of work of task {n}", n=index), choices,
                               kind if kind in set(KINDS) else None)]
    return Form(id=TASKS_FORM, title=_("Three tasks"), submit=_("Save"), close=_("Cancel"), metadata=metadata,
                errors=errors or {}, inputs=tuple(inputs),
                intro=(Section(rich(_("Your three tasks for {day}. Each has a kind; change it if it fits another.",
                                      day=_day_label(t, day)))),))


def tasks_saved(t: Translator) -> Message:
    return text(t.gettext("Saved. At the end of your day I'll ask how each went."))


def skipped(t: Translator, day: date) -> Message:
    return text(t.gettext("{day} is not counted. Your run grows by a day.", day=_day_label(t, day)))


# --- the evening ---------------------------------------------------------------------------------------
def evening_dm(t: Translator, run: RunRow, row: DayRow) -> Message:
    _ = t.gettext
    line = _("How did today go? Rate each task green, orange or red.")
    return Message((Section(rich(line)),
                    Section(rich("\n".join(_task_line(t, task) for task in row.tasks))),
                    Actions((Button(_("Rate my day"), RATE_ACTION, f"{run.id}:{row.day.isoformat()}",
                                    style="primary"),))), fallback=line)


def ratings_form(t: Translator, *, metadata: str, row: DayRow | None, ratings: tuple[str | None, ...],
                 whys: tuple[str, ...], errors: dict[str, str] | None = None) -> Form:
    """`row` None: the day is gone (errors say so); the form only gives back what was typed."""
    _ = t.gettext
    choices = tuple(Choice(r.value, f"{DOTS[r]} {rating_label(t, r)}") for r in Rating)
    inputs: list = []
    for index, (rating, why) in enumerate(zip(ratings, whys), start=1):
        task = row.tasks[index - 1] if row is not None and len(row.tasks) >= index else None
        label = f"{category_label(t, task.kind)}: {task.text}" if task else _("Task {n}", n=index)
        inputs += [SelectInput(f"rating{index}", label[:150], choices, rating, radio=True),
                   TextInput(f"why{index}", _("Why? (optional)"), why, optional=True, max_length=INPUT_LIMIT,
                             hint=_("One line, at most {max} characters.", max=WHY_MAX))]
    intro = (Section(rich(_("Your tasks of {day}.", day=_day_label(t, row.day)))),) if row is not None else ()
    return Form(id=RATINGS_FORM, title=_("Rate my day"), submit=_("Save"), close=_("Cancel"), metadata=metadata,
                errors=errors or {}, inputs=tuple(inputs), intro=intro)


def day_card(t: Translator, row: DayRow, *, about: str | None = None, run_id: int | None = None) -> Message:
    """A rated day. `about`: the participant's name on their coach's copy, with the feedback button."""
    _ = t.gettext
    title = _("{name}'s day", name=about) if about else _("Your day")
    blocks: list = [Header(title), *_day_blocks(t, row)]
    if about and run_id is not None:
        blocks.append(Actions((Button(_("Give feedback"), FEEDBACK_ACTION, str(run_id)),)))
    return Message(tuple(blocks), fallback=title)


# --- the week card -------------------------------------------------------------------------------------
def week_card(t: Translator, run: RunRow, rows: list[DayRow], *, about: str | None = None) -> Message:
    _ = t.gettext
    title = _("{name}'s Driver's Seat week", name=about) if about else _("Your Driver's Seat week")
    blocks: list = [Header(title)]
    for row in rows:
        blocks += _day_blocks(t, row)
    blocks.append(Section(rich(Bold(_("Green per kind of work")), "\n", _shares_line(t, rows))))
    blocks.append(Section(rich(Bold(_("What made the green days green?")))))
    if about:
        blocks.append(Actions((Button(_("Give feedback"), FEEDBACK_ACTION, str(run.id), style="primary"),)))
    else:
        blocks.append(Context(rich(_("Start another week any time with `/drivers-seat start`."))))
    return Message(tuple(blocks), fallback=title)


# --- the coach -----------------------------------------------------------------------------------------
def feedback_form(t: Translator, *, run_id: int, name: str, value: str = "", errors: dict[str, str] | None = None,
                  can_draft: bool = False) -> Form:
    _ = t.gettext
    actions = (Button(_("Draft feedback"), DRAFT_ACTION, str(run_id)),) if can_draft else ()
    return Form(id=FEEDBACK_FORM, title=_("Feedback"), submit=_("Send"), close=_("Cancel"), metadata=str(run_id),
                errors=errors or {}, actions=actions,
                intro=(Section(rich(_("Your feedback on {name}'s Driver's Seat reaches them as a message from you.",
                                      name=name))),),
                inputs=(TextInput("feedback", _("Feedback"), value, multiline=True, max_length=INPUT_LIMIT,
                                  hint=_("Specific and kind. At most {max} characters.", max=FEEDBACK_MAX)),))


def feedback_dm(t: Translator, coach: str, feedback: str) -> Message:
    line = t.gettext("{name} has feedback on your Driver's Seat:", name=coach)
    return Message((Section(rich(Bold(line))), Section(rich(feedback))), fallback=line)


def feedback_sent(t: Translator, name: str) -> Message:
    return text(t.gettext("Sent to {name}.", name=name))


def shared_with_you(t: Translator, name: str) -> Message:
    line = t.gettext("{name} shares their Driver's Seat run with you: you'll get each day's card as it completes "
                     "and the week card, each with a button to give feedback.", name=name)
    return text(line)


# --- the digest ----------------------------------------------------------------------------------------
def digest_blocks(t: Translator, people: int, rated: list[tuple[str, str]]) -> list[Block]:
    """The team's Driver's Seat this week: how many ran it and the green share per kind; no names."""
    if not people:
        return []
    _ = t.gettext
    shares = green_share(rated)
    parts = [_("{kind} {percent}% green", kind=category_label(t, kind), percent=percent(shares[kind]))
             for kind in KINDS if shares[kind] is not None]
    count = t.ngettext("{n} person ran the Driver's Seat this week.", "{n} people ran the Driver's Seat this week.",
                       people)
    return [Section(rich(Bold(_("Driver's Seat")), "\n", count, "\n", " · ".join(parts)))]
