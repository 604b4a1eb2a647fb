"""What a round looks like to people: posts, DMs, forms and summaries as neutral messages."""

from __future__ import annotations

from datetime import date

from core.domain.rounds import ANSWER_MAX, QUESTION_MAX, TEXT_MAX, TITLE_MAX, ShareMode
from core.domain.summary import Quote, SummaryResult
from core.domain.text import N_
from core.llm import gate
from core.messages.i18n import Translator
from core.messages.model import (Actions, Bold, Button, ChannelInput, Choice, Context, DateInput, Divider,
                                 Form, Header, Italic, Link, Message, Notice, Section, SelectInput, TextInput, rich)
from core.persistence.repository import RoundRow

ANSWER_ACTION = "round.answer"
SHARE_FORM = "round.share"
CONFIRM_FORM = "round.confirm"
ANSWER_FORM = "round.answer_form"


def share_form(t: Translator, *, channel_id: str, deadline: date, questions: tuple[str, ...], title: str = "",
               link: str = "", text: str = "", share_mode: str = ShareMode.THREAD,
               errors: dict[str, str] | None = None, metadata: str = "", response_hours: int | None = None) -> Form:
    """`response_hours`: the team's agreed response time (its agreement), which the deadline can't undercut."""
    _ = t.gettext
    agreed = (Context(rich(t.gettext("This team agreed to answer within {hours} hours, so the deadline can't be "
                                     "sooner than that.", hours=response_hours))),) if response_hours else ()
    return Form(
        id=SHARE_FORM, title=_("Share an insight"), submit=_("Share"), close=_("Cancel"), metadata=metadata,
        errors=errors or {},
        intro=(Section(rich(_("Share a document, video or text with three reflection questions. "
                              "Everyone answers in their own time."))), *agreed),
        inputs=(
            TextInput("title", _("Title"), title, max_length=TITLE_MAX),
            TextInput("link", _("Link to a document or video"), link, optional=True,
                      placeholder="https://", max_length=2000),
            TextInput("text", _("Text"), text, multiline=True, optional=True, max_length=TEXT_MAX,
                      hint=_("A link or a text is required.")),
            TextInput("q1", _("Question 1"), questions[0], multiline=True, max_length=QUESTION_MAX),
            TextInput("q2", _("Question 2"), questions[1], multiline=True, max_length=QUESTION_MAX),
            TextInput("q3", _("Question 3"), questions[2], multiline=True, max_length=QUESTION_MAX),
            ChannelInput("channel", _("Channel"), channel_id or None),
            DateInput("deadline", _("Answers by"), deadline),
            SelectInput("share_mode", _("How answers are shared"), share_mode_choices(t), share_mode, radio=True),
        ),
    )


def share_mode_choices(t: Translator) -> tuple[Choice, ...]:
    _ = t.gettext
    return (
        Choice(ShareMode.THREAD, _("In the thread, with names")),
        Choice(ShareMode.AUTHOR_ONLY, _("Only I see them until the round closes")),
        Choice(ShareMode.ANONYMOUS, _("In the thread, anonymously")),
    )


def confirm_form(t: Translator, *, round_id: int, members: int) -> Form:
    _ = t.gettext
    return Form(
        id=CONFIRM_FORM, title=_("Send to everyone?"), submit=_("Send"), close=_("Back"), inputs=(),
        metadata=str(round_id),
        intro=(Section(rich(t.ngettext("This channel has {n} member. Each will get the questions in a direct "
                                       "message.", "This channel has {n} members. Each will get the questions "
                                       "in a direct message.", members))),),
    )


def _deadline_line(t: Translator, round_: RoundRow, tz: str | None) -> str:
    return t.gettext("Answers by {when}", when=t.datetime(round_.deadline_at, tz))


def _mode_line(t: Translator, share_mode: str) -> str:
    _ = t.gettext
    return {
        ShareMode.THREAD: _("Answers appear in the thread with names."),
        ShareMode.AUTHOR_ONLY: _("Only the author sees answers until the round closes."),
        ShareMode.ANONYMOUS: _("Answers appear in the thread without names."),
    }.get(share_mode, "")


def _questions(round_: RoundRow) -> Section:
    parts: list = []
    for index, question in enumerate(round_.questions, start=1):
        parts += [Bold(f"{index}. "), question, "\n"]
    return Section(rich(*parts[:-1]))


def _what(round_: RoundRow) -> list:
    blocks: list = []
    if round_.link:
        blocks.append(Section(rich(Link(round_.link, round_.link))))
    if round_.body:
        blocks.append(Section(rich(round_.body)))
    return blocks


def round_post(t: Translator, round_: RoundRow, *, closed: bool = False) -> Message:
    """The insight as posted in the channel."""
    _ = t.gettext
    tz = round_.workspace.tz or round_.author.tz
    blocks: list = [Header(round_.title),
                    Context(rich(_("Shared by {name}", name=round_.author.name or round_.author.ref.id)))]
    blocks += _what(round_)
    blocks += [Divider(), _questions(round_)]
    if closed:
        blocks.append(Context(rich(_("This round is closed. The summary is in the thread."))))
    else:
        blocks.append(Context(rich(_deadline_line(t, round_, tz), " · ", _mode_line(t, round_.share_mode))))
        blocks.append(Actions((Button(_("Answer"), ANSWER_ACTION, str(round_.id), style="primary"),)))
    return Message(tuple(blocks), fallback=_("New insight to reflect on: {title}", title=round_.title))


def round_dm(t: Translator, round_: RoundRow, tz: str | None) -> Message:
    """The questions as a direct message to one member."""
    _ = t.gettext
    blocks: list = [Section(rich(_("{name} shared an insight with your channel. Take a moment for it "
                                   "when it suits you.", name=round_.author.name or round_.author.ref.id))),
                    Header(round_.title)]
    blocks += _what(round_)
    blocks += [_questions(round_),
               Context(rich(_deadline_line(t, round_, tz), " · ", _mode_line(t, round_.share_mode))),
               Actions((Button(_("Answer"), ANSWER_ACTION, str(round_.id), style="primary"),))]
    return Message(tuple(blocks), fallback=_("Three questions for you: {title}", title=round_.title))


def reminder_dm(t: Translator, round_: RoundRow, tz: str | None) -> Message:
    _ = t.gettext
    return Message(
        (Section(rich(_("A gentle reminder: the round "), Bold(round_.title), _(" closes soon."))),
         Context(rich(_deadline_line(t, round_, tz))),
         Actions((Button(_("Answer"), ANSWER_ACTION, str(round_.id), style="primary"),))),
        fallback=_("Reminder: {title} closes soon", title=round_.title),
    )


def reach_report(t: Translator, round_: RoundRow, counts: dict[str, int]) -> Message:
    """To the author: how many members the questions did not reach, grouped by why (see
    `core.services.rounds.report_reach` for the groups)."""
    total = sum(counts.values())
    lines = {
        "blocked": t.ngettext("{n} has blocked the app", "{n} have blocked the app", counts.get("blocked", 0)),
        "other": t.ngettext("{n} could not be messaged (the app may not be installed for them)",
                            "{n} could not be messaged (the app may not be installed for them)",
                            counts.get("other", 0)),
        "failed": t.ngettext("{n} was not reached because of repeated errors",
                             "{n} were not reached because of repeated errors", counts.get("failed", 0)),
    }
    bullets = "\n".join(f"• {text}" for group, text in lines.items() if counts.get(group))
    return Message(
        (Section(rich(t.ngettext("{n} person in the channel did not get the questions for “{title}”:",
                                 "{n} people in the channel did not get the questions for “{title}”:", total,
                                 title=round_.title))),
         Section(rich(bullets)),
         Context(rich(t.gettext("They can still answer from the round's post in the channel.")))),
        fallback=t.ngettext("{n} person did not get the questions", "{n} people did not get the questions", total),
    )


def answer_form(t: Translator, round_: RoundRow, previous: tuple[str, ...] = (),
                errors: dict[str, str] | None = None) -> Form:
    _ = t.gettext
    previous = tuple(previous) + ("",) * (3 - len(previous))
    return Form(
        id=ANSWER_FORM, title=_("Your reflection"), submit=_("Send"), close=_("Cancel"), metadata=str(round_.id),
        errors=errors or {},
        intro=(Section(rich(Bold(round_.title))), Context(rich(_mode_line(t, round_.share_mode)))),
        inputs=tuple(TextInput(f"a{i}", question, previous[i - 1], multiline=True, max_length=ANSWER_MAX)
                     for i, question in enumerate(round_.questions, start=1)),
    )


def answer_reply(t: Translator, round_: RoundRow, author_name: str | None, texts: tuple[str, ...]) -> Message:
    """An answer as a thread reply (attributed unless the round is anonymous)."""
    _ = t.gettext
    who = _("Anonymous answer") if author_name is None else _("Answer from {name}", name=author_name)
    blocks: list = [Context(rich(Bold(who)))]
    for question, text in zip(round_.questions, texts):
        blocks.append(Section(rich(Italic(question), "\n", text)))
    return Message(tuple(blocks), fallback=who)


def summary_message(t: Translator, summary: SummaryResult, *, anonymous: bool) -> Message:
    _ = t.gettext
    blocks: list = [Header(_("Summary of the round"))]
    blocks.append(Context(rich(t.ngettext("{n} person answered", "{n} people answered", summary.answered),
                               " ", _("of {asked} asked.", asked=summary.asked))))
    if summary.headline:
        blocks.append(Section(rich(summary.headline)))
    for theme in summary.themes[:5]:
        lines: list = [Bold(theme.label), " ",
                       t.ngettext("({n} person)", "({n} people)", theme.count)]
        for quote in theme.quotes[:3]:
            lines += _quote(quote, anonymous)
        blocks.append(Section(rich(*lines)))
    for item in summary.questions:
        lines = [Bold(item.question), "\n",
                 t.ngettext("{n} answer", "{n} answers", item.answered)]
        if item.themes:
            lines += ["\n", _("Recurring: {terms}", terms=", ".join(th.label for th in item.themes[:5]))]
        for quote in item.quotes:
            lines += _quote(quote, anonymous)
        blocks.append(Section(rich(*lines)))
    if summary.disagreements:
        blocks.append(Section(rich(Bold(_("Where people differ")), "\n", "\n".join(
            f"• {d}" for d in summary.disagreements))))
    if summary.open_questions:
        blocks.append(Section(rich(Bold(_("Open questions")), "\n", "\n".join(
            f"• {q}" for q in summary.open_questions))))
    if summary.next_step:
        blocks.append(Section(rich(Bold(_("Suggested next step")), "\n", summary.next_step)))
    if summary.kind == "llm":
        label = _("Written by AI ({model}). Check the answers before acting on it.", model=summary.model or "?")
    elif summary.fallback_reason in FALLBACK_LABELS:
        label = _(FALLBACK_LABELS[summary.fallback_reason])
    else:
        label = _("Summary made without AI: counts and quotes from the answers.")
    blocks.append(Context(rich(label)))
    return Message(tuple(blocks), fallback=_("Summary of the round"))


# Why the summary was made without AI although the server has a model (`SummaryResult.fallback_reason`).
FALLBACK_LABELS = {
    gate.SWITCHED_OFF: N_("Summary made without AI, as AI is switched off in this workspace: counts and quotes "
                          "from the answers."),
    gate.BUDGET: N_("Summary made without AI, as today's AI budget is spent: counts and quotes from the answers."),
    gate.ENDPOINT: N_("Summary made without AI, as the AI service failed: counts and quotes from the answers."),
    gate.TOO_SLOW: N_("Summary made without AI, as the AI service took too long: counts and quotes from the "
                      "answers."),
}


def _quote(quote: Quote, anonymous: bool) -> list:
    """A quote on its own line, linked to the answer it comes from when the platform gave a link."""
    return (["\n> ", Link(quote.link, quote.text) if quote.link else quote.text]
            + ([" — ", quote.author] if quote.author and not anonymous else []))


def notice(text: str) -> Notice:
    return Notice(rich(text))
