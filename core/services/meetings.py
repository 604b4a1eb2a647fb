"""The meeting check: the form, the verdict (stored), and turning a meeting into an async round.

The verdict comes from the rules in `core.domain.meetings`; every check is stored with its verdict,
its cost in person-hours and whether it became an async round, for the weekly digest.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import meetings as rules
from core.domain.agreements import team_verdict
from core.domain.meetings import CheckInput
from core.domain.rounds import zone
from core.persistence.agreements import rules_for_external_channel
from core.domain.refs import PersonRef
from core.domain.rounds import TITLE_MAX, ShareInput
from core.messages import meetings as views
from core.messages.focus import text
from core.messages.model import Form, Message
from core.persistence import focus as store
from core.services import llm, rounds
from core.services.deps import Deps
from core.services.outcomes import Invalid
from core.services.rounds import errors_text, known_person, person_translator


@dataclass(frozen=True)
class Checked:
    message: Message


async def check_form(deps: Deps, *, person: PersonRef, agenda: str = "", channel_id: str = "") -> Form:
    """The empty form (the agenda pre-filled from a message when started from one)."""
    member = await known_person(deps, person)
    t = await person_translator(deps, member)
    return views.check_form(t, CheckInput(agenda=agenda[:rules.AGENDA_MAX]), metadata=channel_id)


async def check_errors(deps: Deps, *, person: PersonRef, data: CheckInput, channel_id: str = "") -> Invalid | None:
    """The form again with a sentence per missing or wrong field, or None when it is complete. Fast:
    adapters call it before acknowledging a submission."""
    if not isinstance(errors := rules.validate(data), dict):
        return None
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    return Invalid(views.check_form(t, data, metadata=channel_id, errors=errors_text(t, errors)))


def _summary(meeting: rules.Meeting, outcome: rules.Outcome) -> str:
    """The check in plain words for the model, which may add one sentence of reasoning."""
    return (f"Purpose: {meeting.purpose}. Agenda: {meeting.agenda}. People: {meeting.people}. "
            f"Length: {meeting.minutes} minutes. Recurs: {meeting.frequency}. "
            f"Decision-maker known: {meeting.decider_known}. Material readable beforehand: "
            f"{'yes' if meeting.readable else 'no'}. Verdict by the rules: {outcome.verdict.name.lower()}.")


async def run_check(deps: Deps, *, person: PersonRef, data: CheckInput, channel_id: str = "") -> Invalid | Checked:
    """Validate, judge by the rules, store, and say the verdict (with the model's sentence when the
    workspace has the LLM on; it never changes the verdict)."""
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    meeting = rules.validate(data)
    if isinstance(meeting, dict):
        return Invalid(views.check_form(t, data, metadata=channel_id, errors=errors_text(t, meeting)))
    outcome = rules.judge(meeting)
    async with deps.db.transaction() as conn:
        team = await rules_for_external_channel(conn, member.workspace_id, channel_id)
        outcome = team_verdict(outcome, team, deps.clock.now().astimezone(zone(member.tz)).weekday())
        check_id = await store.insert_check(
            conn, workspace_id=member.workspace_id, member_id=member.id, purpose=meeting.purpose,
            agenda=meeting.agenda, people=meeting.people, minutes=meeting.minutes, frequency=meeting.frequency,
            decider_known=meeting.decider_known, readable=meeting.readable, verdict=outcome.verdict.name.lower(),
            person_hours=outcome.person_hours, monthly_person_hours=outcome.monthly_person_hours,
            created_at=deps.clock.now())
    extra = await llm.meeting_reason(deps, member.workspace_id, _summary(meeting, outcome), t.language)
    return Checked(views.verdict_message(t, outcome, check_id=check_id, agenda=meeting.agenda, extra=extra,
                                         channel_id=channel_id))


async def _own_check(deps: Deps, person: PersonRef, value: str):
    member = await known_person(deps, person, refresh=False)
    check_id, _, channel_id = value.partition("|")
    async with deps.db.transaction() as conn:
        check = await store.get_check(conn, int(check_id)) if check_id.isdigit() else None
    return (check if check is not None and check.member_id == member.id else None), channel_id, member


def _plain_prefill(agenda: str, channel_id: str) -> ShareInput:
    first_line = agenda.strip().splitlines()[0] if agenda.strip() else ""
    return ShareInput(title=first_line[:TITLE_MAX], text=agenda, channel_id=channel_id)


async def async_round_form(deps: Deps, *, person: PersonRef, value: str) -> Form | Message:
    """"Start an async round instead": the share form pre-filled from the meeting's agenda (plain, so
    it opens at once); the check counts as converted. `value` is the button's "check|channel"."""
    check, channel_id, member = await _own_check(deps, person, value)
    if check is None:
        t = await person_translator(deps, member)
        return text(t.gettext("This meeting check isn't yours, so it can't be turned into a round."))
    async with deps.db.transaction() as conn:
        await store.mark_converted(conn, check.id, deps.clock.now())
    return await rounds.share_form(deps, author=person, channel_id=channel_id,
                                   prefill=_plain_prefill(check.agenda, channel_id))


async def drafted_round_form(deps: Deps, *, person: PersonRef, value: str) -> Form | None:
    """The same form drafted by the model from the agenda, or None when the LLM is off or failed
    (the plain form already open stays)."""
    check, channel_id, _member = await _own_check(deps, person, value)
    if check is None:
        return None
    draft = await llm.draft_insight(deps, author=person, bullets=check.agenda,
                                    base=_plain_prefill(check.agenda, channel_id))
    if not isinstance(draft, llm.Draft) or draft.notice is not None or draft.model is None:
        return None
    return await rounds.share_form(deps, author=person, channel_id=channel_id, prefill=draft.data)
