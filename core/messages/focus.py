"""What focus time looks like to people: replies, the week view, the plan form, prompts and team notes."""

from __future__ import annotations

from datetime import date, datetime

from core.domain.focus import PLAN_ROWS, TOPIC_MAX, Category, Progress
from core.messages.i18n import Translator
from core.messages.model import (Actions, Bold, Button, ChannelInput, Choice, Context, Fields, Form, Header, Message,
                                 Section, SelectInput, TextInput, rich)
from core.persistence.focus import BlockRow, SessionRow

STOP_ACTION = "focus.stop"
TELL_ACTION = "focus.tell_team"
PLAN_ACTION = "focus.plan"
START_BLOCK_ACTION = "focus.start_block"
CONNECT_ACTION = "focus.connect"  # a link button: the platform's authorisation page
PLAN_FORM = "focus.plan_form"
TELL_FORM = "focus.tell_form"
NO_BLOCK = "none"  # the plan form's "no block on this row"

STATUS_EMOJI = ":headphones:"  # Slack emoji code for the status while in focus


def clock(t: Translator, value: datetime, tz: str | None) -> str:
    return t.datetime(value, tz, "HH:mm")


def when(t: Translator, value: datetime, tz: str | None) -> str:
    return t.datetime(value, tz, "EEEE d MMMM, HH:mm")


def category_label(t: Translator, category: str) -> str:
    _ = t.gettext
    return {Category.PROACTIVE: _("proactive"), Category.REACTIVE: _("reactive"),
            Category.STUFF: _("stuff")}.get(category, category)


def status_text(t: Translator, ends_at: datetime, tz: str | None) -> str:
    """The platform status while in focus (Slack allows 100 characters)."""
    return t.gettext("Focus time until {time}", time=clock(t, ends_at, tz))


def text(message: str) -> Message:
    return Message((Section(rich(message)),), fallback=message)


def _session_line(t: Translator, session: SessionRow, tz: str | None) -> list:
    line: list = [t.gettext("In focus until {time}", time=clock(t, session.ends_at, tz))]
    if session.topic:
        line += [t.gettext(" on "), Bold(session.topic)]
    line.append(f" ({category_label(t, session.category)})")
    return line


def started(t: Translator, session: SessionRow, tz: str | None, *, shown: str, replaced: SessionRow | None,
            connect_url: str | None) -> Message:
    """The reply to a started session. `shown`: "status" (status and notifications follow),
    "connect" (a connection is needed first), "unsupported" (the platform can't show it)."""
    _ = t.gettext
    blocks: list = []
    if replaced is not None:
        blocks.append(Context(rich(_("Your earlier session (until {time}) ended now and counts for this week; "
                                     "this one replaces it.", time=clock(t, replaced.ends_at, tz)))))
    blocks.append(Section(rich(*_session_line(t, session, tz))))
    if shown == "status":
        blocks.append(Context(rich(_("Your status shows it and notifications are paused until then; both "
                                     "are restored when the session ends."))))
    elif shown == "connect":
        blocks.append(Context(rich(_("I've recorded it. To also set your status and pause notifications, "
                                     "connect your account once with the button below."))))
    else:
        blocks.append(Context(rich(_("I've recorded it. This platform doesn't let apps set your status, so "
                                     "tell your team if you'd like them to know."))))
    buttons = [Button(_("Tell my team"), TELL_ACTION, str(session.id)),
               Button(_("Stop now"), STOP_ACTION, str(session.id), style="danger")]
    if connect_url:
        buttons.insert(0, Button(_("Connect"), CONNECT_ACTION, url=connect_url, style="primary"))
    blocks.append(Actions(tuple(buttons)))
    return Message(tuple(blocks), fallback=_("In focus until {time}", time=clock(t, session.ends_at, tz)))


def stopped(t: Translator, session: SessionRow, minutes: int, progress: Progress) -> Message:
    _ = t.gettext
    line = t.ngettext("Focus session ended after {n} minute.", "Focus session ended after {n} minutes.", minutes)
    week = _("This week: {done} of {goal} minutes.", done=progress.done, goal=progress.goal)
    return Message((Section(rich(line)), Context(rich(week))), fallback=line)


def connect_needed(t: Translator, url: str) -> Message:
    _ = t.gettext
    line = _("Connect your account once so focus sessions can set your status and pause your notifications. "
             "You can disconnect any time by removing the app from your authorised apps.")
    return Message((Section(rich(line)), Actions((Button(_("Connect"), CONNECT_ACTION, url=url, style="primary"),))),
                   fallback=line)


def week(t: Translator, progress: Progress, *, running: SessionRow | None, next_block: BlockRow | None,
         tz: str | None, connect_url: str | None = None) -> Message:
    """`/focus` alone: the week so far against the goal, by category, and what's next."""
    _ = t.gettext
    blocks: list = [Header(_("Your focus this week")),
                    Section(rich(Bold(_("{done} of {goal} minutes", done=progress.done, goal=progress.goal)),
                                 f" ({progress.percent}%)"))]
    blocks.append(Fields(tuple((category_label(t, c), rich(t.ngettext("{n} minute", "{n} minutes",
                                                                      progress.by_category.get(c, 0))))
                               for c in Category)))
    if progress.reached:
        blocks.append(Context(rich(_("Goal reached — well protected."))))
    else:
        blocks.append(Context(rich(t.ngettext("{n} minute to go.", "{n} minutes to go.", progress.remaining))))
    if running is not None:
        blocks.append(Section(rich(*_session_line(t, running, tz))))
    if next_block is not None:
        blocks.append(Section(rich(_("Next planned block: {when} ({minutes} min)",
                                     when=when(t, next_block.starts_at, tz), minutes=next_block.minutes))))
    else:
        blocks.append(Context(rich(_("No block planned. Start one with `/focus 90` or plan the week."))))
    buttons = [Button(_("Plan the week"), PLAN_ACTION)]
    if running is not None:
        buttons.append(Button(_("Stop now"), STOP_ACTION, str(running.id), style="danger"))
    if connect_url:
        buttons.append(Button(_("Connect"), CONNECT_ACTION, url=connect_url))
    blocks.append(Actions(tuple(buttons)))
    return Message(tuple(blocks), fallback=_("{done} of {goal} minutes", done=progress.done, goal=progress.goal))


def plan_form(t: Translator, days: list[date], rows: list[tuple[str, str, str]],
              errors: dict[str, str] | None = None) -> Form:
    """Up to PLAN_ROWS blocks: a day (or none), a start time and a length."""
    _ = t.gettext
    choices = (Choice(NO_BLOCK, _("No block")),) + tuple(Choice(d.isoformat(), t.date(d, "EEEE d MMMM")) for d in days)
    inputs: list = []
    rows = rows + [(NO_BLOCK, "", "")] * (PLAN_ROWS - len(rows))
    for index, (day, start, length) in enumerate(rows[:PLAN_ROWS]):
        inputs += [SelectInput(f"day{index}", _("Block {n}: day", n=index + 1), choices, day or NO_BLOCK),
                   TextInput(f"start{index}", _("Start"), start, optional=True, placeholder="09:00", max_length=5),
                   TextInput(f"length{index}", _("Length"), length, optional=True, placeholder="90", max_length=10)]
    return Form(id=PLAN_FORM, title=_("Plan focus time"), submit=_("Save"), close=_("Cancel"), inputs=tuple(inputs),
                errors=errors or {},
                intro=(Section(rich(_("Reserve focus blocks for the coming days. When a block starts I'll ask "
                                      "whether to start it. Saving replaces the blocks you planned before."))),))


def plan_saved(t: Translator, blocks: list[BlockRow], tz: str | None) -> Message:
    _ = t.gettext
    if not blocks:
        return text(_("No focus blocks planned."))
    lines = [t.ngettext("{n} focus block planned:", "{n} focus blocks planned:", len(blocks))]
    lines += [f"• {when(t, b.starts_at, tz)} ({b.minutes} min)" for b in blocks]
    return text("\n".join(lines))


def block_prompt(t: Translator, block: BlockRow) -> Message:
    _ = t.gettext
    line = _("Your focus block starts now — start it?")
    return Message((Section(rich(line)),
                    Context(rich(t.ngettext("{n} minute", "{n} minutes", block.minutes))),
                    Actions((Button(_("Start focus"), START_BLOCK_ACTION, str(block.id), style="primary"),))),
                   fallback=line)


def tell_team_form(t: Translator, session_id: int) -> Form:
    _ = t.gettext
    return Form(id=TELL_FORM, title=_("Tell my team"), submit=_("Post"), close=_("Cancel"),
                metadata=str(session_id), inputs=(ChannelInput("channel", _("Channel")),),
                intro=(Section(rich(_("A short note in a channel says why you're quiet, so focus time doesn't "
                                      "look like ignoring people."))),))


def note_failed(t: Translator, session_id: int) -> Message:
    """To the person, when their note could not be posted: the way to try another channel."""
    line = t.gettext("I couldn't post your focus note in that channel. Add me to it, or pick another channel.")
    return Message((Section(rich(line)), Actions((Button(t.gettext("Tell my team"), TELL_ACTION, str(session_id)),))),
                   fallback=line)


def team_note(t: Translator, session: SessionRow, name: str, tz: str | None) -> Message:
    """The note in the channel, in the focusing person's language."""
    _ = t.gettext
    until = clock(t, session.ends_at, tz)
    if session.topic:
        line = _("{name}: in focus until {time} on {topic} — for something urgent, call me.",
                 name=name, time=until, topic=session.topic[:TOPIC_MAX])
    else:
        line = _("{name}: in focus until {time} — for something urgent, call me.", name=name, time=until)
    return Message((Section(rich("🎧 " + line)),), fallback=line)
