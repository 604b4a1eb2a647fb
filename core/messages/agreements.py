"""What team agreements look like to people: the edit form, the published message, the owner's
action DM, the lead's grouped answers with the draft, and short replies."""

from __future__ import annotations

from datetime import date

from core.domain.agreements import (ACTION_ROWS, FOCUS_CHOICES, HOUR_CHOICES, NONE, RESPONSE_CHOICES, WEEKDAYS,
                                    ActionState, AgreementInput, Rule, RuleKind)
from core.messages.i18n import Translator
from core.messages.model import (Actions, Bold, Button, Choice, Context, DateInput, Divider, Form, Header, Message,
                                 Section, SelectInput, TextInput, rich)

EDIT_FORM = "agreements.edit_form"
ACTION_STATE = "agreements.action_state"  # button value "{action}|{state}"
NOT_YET = "not_yet"


def text(message: str) -> Message:
    return Message((Section(rich(message)),), fallback=message)


def weekday(t: Translator, day: int) -> str:
    _ = t.gettext
    return (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))[day]


def rule_text(t: Translator, rule: Rule) -> str:
    _ = t.gettext
    p = rule.params or {}
    if rule.kind == RuleKind.WORK_HOURS:
        return _("Our working hours are {start}–{end}: no nudges outside them.", start=p.get("start"), end=p.get("end"))
    if rule.kind == RuleKind.RESPONSE_TIME:
        return _("We answer within {hours} hours, so deadlines are never shorter.", hours=p.get("hours"))
    if rule.kind == RuleKind.FOCUS_GOAL:
        return _("Each of us aims for {hours} hours of focus time a week.", hours=int(p.get("minutes", 0)) // 60)
    if rule.kind == RuleKind.NO_MEETING_DAYS:
        return _("No meetings on {days}.", days=", ".join(weekday(t, d) for d in p.get("days", ())))
    if rule.kind == RuleKind.MEETING_AGENDA:
        return _("A meeting needs an agenda.")
    return rule.text


def state_text(t: Translator, state: str) -> str:
    _ = t.gettext
    return {ActionState.OPEN: _("open"), ActionState.DONE: _("done"), ActionState.DROPPED: _("dropped")}.get(state, state)


def agreement_message(t: Translator, *, version: int, principles, rules, actions, names: dict[int, str],
                      published: date | None) -> Message:
    """The agreement as the channel sees it: principles, rules, actions with owner, date and state."""
    _ = t.gettext
    title = _("Our team agreement · version {version}", version=version)
    blocks: list = [Header(title)]
    for heading, items in ((_("Principles"), list(principles)), (_("Rules"), [rule_text(t, r) for r in rules])):
        if items:
            blocks.append(Section(rich(Bold(heading), "\n" + "\n".join(f"• {item}" for item in items))))
    if actions:
        lines = [f"• {a.text} — {names.get(a.owner_id, _('someone'))}, "
                 f"{t.date(a.due_on, 'd MMMM') if a.due_on else ''} ({state_text(t, a.state)})" for a in actions]
        blocks.append(Section(rich(Bold(_("Actions")), "\n" + "\n".join(lines))))
    if published is not None:
        blocks.append(Context(rich(_("Published {date}. Every version is kept; /agreements shows the current one.",
                                     date=t.date(published, "d MMMM yyyy")))))
    return Message(tuple(blocks), fallback=title)


def _choices(t: Translator, values, label) -> tuple[Choice, ...]:
    return (Choice(NONE, t.gettext("No rule")), *(Choice(str(v), label(v)) for v in values))


def edit_form(t: Translator, data: AgreementInput, *, owners: list[tuple[int, str]], metadata: str,
              errors: dict[str, str] | None = None, note: str | None = None) -> Form:
    _ = t.gettext
    people = (Choice(NONE, _("Nobody yet")), *(Choice(str(i), name[:75]) for i, name in owners))
    inputs: list = [
        TextInput("principles", _("Principles"), data.principles, multiline=True, optional=True, max_length=3000,
                  hint=_("One per line. Agreements start with principles; rules follow from them.")),
        TextInput("rules", _("Rules"), data.rules, multiline=True, optional=True, max_length=3000,
                  hint=_("One per line, in your own words. The choices below are rules unmeet also follows.")),
        SelectInput("work_start", _("Our working day starts at"), _choices(t, HOUR_CHOICES, str), data.work_start),
        SelectInput("work_end", _("Our working day ends at"), _choices(t, HOUR_CHOICES, str), data.work_end),
        SelectInput("response_hours", _("We answer within"),
                    _choices(t, RESPONSE_CHOICES, lambda h: _("{hours} hours", hours=h)), data.response_hours),
        SelectInput("focus_hours", _("Focus time each, per week"),
                    _choices(t, FOCUS_CHOICES, lambda h: _("{hours} hours", hours=h)), data.focus_hours),
        SelectInput("no_meeting_day", _("A day without meetings"),
                    _choices(t, WEEKDAYS, lambda d: weekday(t, d)), data.no_meeting_day),
        SelectInput("agenda", _("A meeting needs an agenda"),
                    (Choice(NONE, _("No rule")), Choice("yes", _("Yes"))), data.agenda),
    ]
    rows = list(data.actions) + [None] * (ACTION_ROWS - len(data.actions))
    for n, action in enumerate(rows[:ACTION_ROWS], start=1):
        inputs += [
            TextInput(f"a{n}_text", _("Action {n}", n=n), action.text if action else "", optional=True, max_length=300),
            SelectInput(f"a{n}_owner", _("Owner of action {n}", n=n), people,
                        (action.owner or NONE) if action else NONE),
            DateInput(f"a{n}_due", _("Due date of action {n}", n=n), action.due if action else None, optional=True),
        ]
    intro = [Section(rich(_("Principles first, then rules, then actions with an owner and a date. "
                            "Publishing posts the agreement in the channel and keeps every version.")))]
    if note:
        intro.append(Context(rich(note)))
    return Form(id=EDIT_FORM, title=_("Team agreement"), submit=_("Publish"), close=_("Cancel"), metadata=metadata,
                inputs=tuple(inputs), intro=tuple(intro), errors=errors or {})


def action_dm(t: Translator, *, action_id: int, text_: str, due: date, today: bool) -> Message:
    _ = t.gettext
    when = _("today") if today else t.date(due, "EEEE d MMMM")
    line = _("Your action from the team agreement is due {when}: {action}", when=when, action=text_)
    return Message((Section(rich(line)),
                    Actions((Button(_("Done"), ACTION_STATE, f"{action_id}|{ActionState.DONE}", style="primary"),
                             Button(_("Not yet"), ACTION_STATE, f"{action_id}|{NOT_YET}"),
                             Button(_("Drop"), ACTION_STATE, f"{action_id}|{ActionState.DROPPED}")))), fallback=line)


def grouped_answers(t: Translator, *, questions, groups, draft: dict | None, draft_note: str | None) -> Message:
    """The lead's view of the questionnaire: answers per topic, numbered (A1, A2, …) and named only
    when the round was not anonymous; then the draft, each line citing the answers it came from."""
    _ = t.gettext
    title = _("Answers for your team agreement")
    blocks: list = [Header(title)]
    for question, answers in zip(questions, groups):
        lines = [f"A{number}: {body}" + (f" — {name}" if name else "") for number, body, name in answers] or [
            _("No answers on this topic.")]
        blocks.append(Section(rich(Bold(question), "\n" + "\n".join(lines))))
    if draft:
        blocks.append(Divider())
        blocks.append(Header(_("Draft agreement")))
        for heading, key in ((_("Principles"), "principles"), (_("Rules"), "rules"), (_("Actions"), "actions")):
            items = [f"• {line['text']} ({', '.join(f'A{n}' for n in line['sources'])})" for line in draft.get(key, ())]
            if items:
                blocks.append(Section(rich(Bold(heading), "\n" + "\n".join(items))))
        blocks.append(Context(rich(_("A draft by AI from the answers. /agreements edit opens it to change and publish."))))
    elif draft_note:
        blocks.append(Context(rich(draft_note)))
    return Message(tuple(blocks), fallback=title)
