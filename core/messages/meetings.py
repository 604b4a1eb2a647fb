"""What the meeting check looks like to people: the form and the verdict."""

from __future__ import annotations

from core.domain.meetings import AGENDA_MAX, Answer, CheckInput, Frequency, Outcome, Purpose, Verdict
from core.messages.i18n import Translator
from core.messages.model import Actions, Bold, Button, Choice, Context, Form, Header, Message, Section, SelectInput
from core.messages.model import TextInput, rich

CHECK_FORM = "meeting.check"
TO_ASYNC_ACTION = "meeting.to_async"


def purpose_choices(t: Translator) -> tuple[Choice, ...]:
    _ = t.gettext
    return (Choice(Purpose.DECIDE, _("Decide something")),
            Choice(Purpose.SOLVE, _("Solve a problem together")),
            Choice(Purpose.SENSITIVE, _("Something sensitive or personal")),
            Choice(Purpose.INFORM, _("Share information")),
            Choice(Purpose.STATUS, _("Status update")),
            Choice(Purpose.BRAINSTORM, _("Brainstorm")),
            Choice(Purpose.OTHER, _("Something else")))


def frequency_choices(t: Translator) -> tuple[Choice, ...]:
    _ = t.gettext
    return (Choice(Frequency.ONCE, _("Just once")), Choice(Frequency.DAILY, _("Every working day")),
            Choice(Frequency.WEEKLY, _("Every week")), Choice(Frequency.BIWEEKLY, _("Every two weeks")),
            Choice(Frequency.MONTHLY, _("Every month")))


def check_form(t: Translator, data: CheckInput, *, metadata: str = "", errors: dict[str, str] | None = None) -> Form:
    _ = t.gettext
    yes_no_unsure = (Choice(Answer.YES, _("Yes")), Choice(Answer.NO, _("No")), Choice(Answer.UNSURE, _("Not sure")))
    yes_no = yes_no_unsure[:2]
    return Form(
        id=CHECK_FORM, title=_("Do we need to meet?"), submit=_("Check"), close=_("Cancel"), metadata=metadata,
        errors=errors or {},
        intro=(Section(rich(_("Before inviting people: is it really worth coming together? Describe the meeting "
                              "and get a verdict with its cost in person-hours."))),),
        inputs=(
            SelectInput("purpose", _("What is the meeting for?"), purpose_choices(t), data.purpose or None),
            TextInput("agenda", _("Agenda"), data.agenda, multiline=True, max_length=AGENDA_MAX),
            TextInput("people", _("How many people?"), data.people, placeholder="6", max_length=4),
            TextInput("minutes", _("How long, in minutes?"), data.minutes, placeholder="30", max_length=3),
            SelectInput("frequency", _("How often?"), frequency_choices(t), data.frequency or Frequency.ONCE),
            SelectInput("decider_known", _("Is it clear who decides?"), yes_no_unsure, data.decider_known or None,
                        radio=True),
            SelectInput("readable", _("Could people read the material beforehand?"), yes_no, data.readable or None,
                        radio=True),
        ),
    )


def _hours(t: Translator, value: float) -> str:
    shown = f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    if t.language == "nl":
        shown = shown.replace(".", ",")
    return shown


def verdict_message(t: Translator, outcome: Outcome, *, check_id: int, agenda: str, extra: str | None = None,
                    channel_id: str = "") -> Message:
    """The verdict, its reasons, the cost, and — for "go async" — the button that starts a round."""
    _ = t.gettext
    title = {Verdict.MEET: _("Verdict: meet"),
             Verdict.MEET_SHORTER_SMALLER: _("Verdict: meet, but shorter or smaller"),
             Verdict.GO_ASYNC: _("Verdict: go async")}[outcome.verdict]
    blocks: list = [Header(title), Context(rich(Bold(_("Agenda")), ": ", agenda[:280]))]
    blocks += [Section(rich("• ", t.gettext(r.message, **r.params))) for r in outcome.reasons]
    if extra:
        blocks.append(Context(rich(_("AI note: "), extra)))
    cost = _("Cost: {hours} person-hours", hours=_hours(t, outcome.person_hours))
    if outcome.monthly_person_hours is not None:
        cost += " " + _("per meeting, {hours} person-hours per month", hours=_hours(t, outcome.monthly_person_hours))
    blocks.append(Section(rich(Bold(cost))))
    if outcome.verdict == Verdict.GO_ASYNC:
        blocks.append(Actions((Button(_("Start an async round instead"), TO_ASYNC_ACTION,
                                      f"{check_id}|{channel_id}", style="primary"),)))
    return Message(tuple(blocks), fallback=title)
