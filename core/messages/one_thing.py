"""What The One Thing looks like to people: replies, the form, the check a week later, its form, the
Home section and the digest's list."""

from __future__ import annotations

from core.domain.one_thing import NOTE_MAX, TEXT_MAX, Answer
from core.messages.i18n import Translator
from core.messages.model import (Actions, Block, Bold, Button, Choice, Context, Divider, Form, Header, Italic,
                                 Message, Section, SelectInput, TextInput, rich)
from core.persistence.one_thing import OneThingRow

RECORD_ACTION = "onething.record"  # opens the form (Home, the `/one-thing` view)
CHECK_ACTION = "onething.check"  # value "{id}:{answer}": opens the check form with that answer chosen
FORM = "onething.form"
CHECK_FORM = "onething.check_form"
INPUT_LIMIT = 3000  # the platforms' input ceiling: a too-long text comes back whole, with the sentence
HOME_HISTORY = 5
VIEW_HISTORY = 10
DIGEST_LISTED = 10
PRIVATE, SHARED = "private", "shared"


def text(message: str) -> Message:
    return Message((Section(rich(message)),), fallback=message)


def answer_label(t: Translator, answer: str) -> str:
    _ = t.gettext
    return {Answer.YES: _("Yes"), Answer.PARTLY: _("Partly"), Answer.DROPPED: _("Dropped")}.get(answer, answer)


def _sharing(t: Translator, shared: bool) -> str:
    if shared:
        return t.gettext("Shared in your team's weekly digest (without your name).")
    return t.gettext("Only you see it.")


def _quoted(value: str) -> list:
    return ["“", Italic(value), "”"]


def recorded(t: Translator, row: OneThingRow, *, replaced: OneThingRow | None) -> Message:
    _ = t.gettext
    blocks: list = [Section(rich(Bold(_("Your One Thing")), "\n", *_quoted(row.text))),
                    Context(rich(_("In a week I'll ask whether you're still doing it."), " ",
                                 _sharing(t, row.shared)))]
    if replaced is not None:
        blocks.append(Context(rich(_("It replaces your earlier One Thing, which stays in your history."))))
    return Message(tuple(blocks), fallback=_("Your One Thing is recorded."))


def unchanged(t: Translator, row: OneThingRow) -> Message:
    line = t.gettext("That is already your One Thing, so nothing changed.")
    return Message((Section(rich(line)), Context(rich(_sharing(t, row.shared)))), fallback=line)


def sharing_changed(t: Translator, row: OneThingRow) -> Message:
    _ = t.gettext
    line = _("Your One Thing is now shared in your team's weekly digest, without your name.") if row.shared else \
        _("Your One Thing is private again: it no longer appears in the digest.")
    return Message((Section(rich(line)), Context(rich(*_quoted(row.text)))), fallback=line)


def nothing_yet(t: Translator) -> Message:
    _ = t.gettext
    line = _("You have no One Thing yet: the one idea you keep from a session, a round or a read.")
    return Message((Section(rich(line)), Actions((Button(_("Record my One Thing"), RECORD_ACTION, style="primary"),))),
                   fallback=line)


def _history_blocks(t: Translator, rows: list[OneThingRow], tz: str | None) -> list:
    """One block per earlier One Thing (each may be 500 characters; a section holds 3,000)."""
    if not rows:
        return []
    blocks: list = [Section(rich(Bold(t.gettext("Before"))))]
    for row in rows:
        parts: list = ["• ", row.text, " — ", t.datetime(row.recorded_at, tz, "d MMM yyyy")]
        if row.check_answer:
            parts += [" (", t.gettext("still doing it: {answer}", answer=answer_label(t, row.check_answer).lower()),
                      ")"]
        blocks.append(Section(rich(*parts)))
    return blocks


def _current_blocks(t: Translator, current: OneThingRow, tz: str | None) -> list:
    gettext = t.gettext
    lines: list = [*_quoted(current.text), "\n",
                   gettext("Since {day}.", day=t.datetime(current.recorded_at, tz, "EEEE d MMMM"))]
    if current.check_answer:
        lines += [" ", gettext("Still doing it: {answer}.", answer=answer_label(t, current.check_answer))]
    blocks: list = [Section(rich(*lines)), Context(rich(_sharing(t, current.shared)))]
    if current.check_note:
        blocks.append(Context(rich(gettext("Your note: "), current.check_note)))
    return blocks


def overview(t: Translator, current: OneThingRow | None, history: list[OneThingRow], tz: str | None) -> Message:
    """`/one-thing` alone: the current One Thing and the ones before it."""
    gettext = t.gettext
    if current is None and not history:
        return nothing_yet(t)
    blocks: list = [Header(gettext("Your One Thing"))]
    if current is not None:
        blocks += _current_blocks(t, current, tz)
    blocks += _history_blocks(t, history, tz)
    blocks.append(Actions((Button(gettext("Record a new one"), RECORD_ACTION, style="primary"),)))
    blocks.append(Context(rich(gettext("Share it in the team digest with “share”, stop with “unshare”."))))
    return Message(tuple(blocks), fallback=gettext("Your One Thing"))


def home_blocks(t: Translator, current: OneThingRow | None, history: list[OneThingRow],
                tz: str | None) -> tuple[Block, ...]:
    """The Home's section: the current One Thing, the latest few before it, and the button to record one."""
    gettext = t.gettext
    blocks: list = [Divider(), Header(gettext("Your One Thing"))]
    if current is None:
        blocks.append(Section(rich(gettext("The one idea you keep from a session, a round or a read."))))
    else:
        blocks += _current_blocks(t, current, tz)
    blocks += _history_blocks(t, history, tz)
    label = gettext("Record my One Thing") if current is None else gettext("Record a new one")
    blocks.append(Actions((Button(label, RECORD_ACTION, style="primary"),)))
    return tuple(blocks)


def form(t: Translator, *, value: str = "", shared: bool = False, errors: dict[str, str] | None = None,
         metadata: str = "") -> Form:
    gettext = t.gettext
    choices = (Choice(PRIVATE, gettext("Only me")), Choice(SHARED, gettext("Share it in my team's weekly digest")))
    return Form(id=FORM, title=gettext("My One Thing"), submit=gettext("Save"), close=gettext("Cancel"),
                metadata=metadata, errors=errors or {},
                inputs=(TextInput("text", gettext("The one idea I keep"), value, multiline=True,
                                  max_length=INPUT_LIMIT, hint=gettext("One idea, at most {max} characters.", max=TEXT_MAX)),
                        SelectInput("share", gettext("Who sees it"), choices, SHARED if shared else PRIVATE,
                                    radio=True)),
                intro=(Section(rich(gettext("What is the one idea you keep from a session, a round or a read? "
                                            "A new One Thing replaces the current one; the old one stays in "
                                            "your history."))),))


# --- the check a week later ---------------------------------------------------------------------------
def check_dm(t: Translator, row: OneThingRow) -> Message:
    gettext = t.gettext
    line = gettext("A week ago you chose your One Thing. Still doing it?")
    buttons = tuple(Button(answer_label(t, a), CHECK_ACTION, f"{row.id}:{a}",
                           style="primary" if a == Answer.YES else None) for a in Answer)
    return Message((Section(rich(line)), Section(rich(*_quoted(row.text))), Actions(buttons),
                    Context(rich(gettext("You can add a note after choosing.")))), fallback=line)


def check_form(t: Translator, row: OneThingRow | None, *, one_thing_id: int, answer: str | None, note: str = "",
               errors: dict[str, str] | None = None) -> Form:
    """`row` None: it is gone (errors say so), the form only gives back what was typed."""
    gettext = t.gettext
    choices = tuple(Choice(a.value, answer_label(t, a)) for a in Answer)
    intro = (Section(rich(*_quoted(row.text))),) if row is not None else ()
    return Form(id=CHECK_FORM, title=gettext("Still doing it?"), submit=gettext("Save"), close=gettext("Cancel"),
                metadata=str(one_thing_id), errors=errors or {}, intro=intro,
                inputs=(SelectInput("answer", gettext("Still doing it?"), choices, answer, radio=True),
                        TextInput("note", gettext("A note (optional)"), note, multiline=True, optional=True,
                                  max_length=INPUT_LIMIT,
                                  hint=gettext("What helped, or what got in the way? At most {max} characters.",
                                               max=NOTE_MAX))))


def check_saved(t: Translator, answer: str, *, again: bool) -> Message:
    gettext = t.gettext
    line = gettext("Updated: {answer}.", answer=answer_label(t, answer)) if again else \
        gettext("Thanks, noted: {answer}.", answer=answer_label(t, answer))
    follow = {Answer.YES: gettext("Keep it up."),
              Answer.PARTLY: gettext("Partly is a start. What would make it easier?"),
              Answer.DROPPED: gettext("That's fine. Pick a new One Thing when one comes up.")}[Answer(answer)]
    blocks: list = [Section(rich(line)), Context(rich(follow))]
    if answer == Answer.DROPPED:
        blocks.append(Actions((Button(gettext("Record a new one"), RECORD_ACTION),)))
    return Message(tuple(blocks), fallback=line)


# --- the digest ----------------------------------------------------------------------------------------
def digest_blocks(t: Translator, texts: tuple[str, ...]) -> list[Block]:
    """The team's shared One Things, as a list (no ranking, no names; the first DIGEST_LISTED, the rest
    counted); nothing when there are none."""
    if not texts:
        return []
    gettext = t.gettext
    blocks: list = [Section(rich(Bold(gettext("One Things the team shares"))))]
    blocks += [Section(rich("• ", text)) for text in texts[:DIGEST_LISTED]]
    if (more := len(texts) - DIGEST_LISTED) > 0:
        blocks.append(Context(rich(t.ngettext("…and {n} more", "…and {n} more", more))))
    return blocks
