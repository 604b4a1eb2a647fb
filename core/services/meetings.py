"""The meeting check: the form, the verdict (stored), and turning a meeting into an async round.

The verdict comes from the rules in `core.domain.meetings`; every check is stored with its verdict,
its cost in person-hours and whether it became an async round, for the weekly digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain import meetings as rules
from core.domain.meetings import CheckInput, Verdict
from core.domain.refs import PersonRef
from core.domain.rounds import TITLE_MAX, ShareInput
from core.messages import meetings as views
from core.messages.focus import text
from core.messages.model import Form, Message
from core.persistence import focus as store
from core.services import rounds
from core.services.deps import Deps
from core.services.rounds import errors_text, known_person, person_translator


@dataclass(frozen=True)
class Invalid:
    form: Form


@dataclass(frozen=True)
class Checked:
    message: Message


async def check_form(deps: Deps, *, person: PersonRef, agenda: str = "", channel_id: str = "") -> Form:
    """The empty form (the agenda pre-filled from a message when started from one)."""
    member = await known_person(deps, person)
    t = await person_translator(deps, member)
    return views.check_form(t, CheckInput(agenda=agenda[:rules.AGENDA_MAX]), metadata=channel_id)


async def run_check(deps: Deps, *, person: PersonRef, data: CheckInput, channel_id: str = "") -> Invalid | Checked:
    """Validate, judge, store, and say the verdict."""
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    meeting = rules.validate(data)
    if isinstance(meeting, dict):
        return Invalid(views.check_form(t, data, metadata=channel_id, errors=errors_text(t, meeting)))
    outcome = rules.judge(meeting)
    async with deps.db.transaction() as conn:
        check_id = await store.insert_check(
            conn, workspace_id=member.workspace_id, member_id=member.id, purpose=meeting.purpose,
            agenda=meeting.agenda, people=meeting.people, minutes=meeting.minutes, frequency=meeting.frequency,
            decider_known=meeting.decider_known, readable=meeting.readable, verdict=outcome.verdict.name.lower(),
            person_hours=outcome.person_hours, monthly_person_hours=outcome.monthly_person_hours,
            created_at=deps.clock.now())
    return Checked(views.verdict_message(t, outcome, check_id=check_id, agenda=meeting.agenda, channel_id=channel_id))


async def async_round_form(deps: Deps, *, person: PersonRef, value: str) -> Form | Message:
    """"Start an async round instead": the share form pre-filled from the meeting's agenda; the check
    counts as converted."""
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    check_id, _, channel_id = value.partition("|")
    async with deps.db.transaction() as conn:
        check = await store.get_check(conn, int(check_id)) if check_id.isdigit() else None
        if check is None or check.member_id != member.id:
            return text(t.gettext("This meeting check isn't yours, so it can't be turned into a round."))
        await store.mark_converted(conn, check.id, deps.clock.now())
    first_line = check.agenda.strip().splitlines()[0] if check.agenda.strip() else ""
    prefill = ShareInput(title=first_line[:TITLE_MAX], text=check.agenda, channel_id=channel_id)
    return await rounds.share_form(deps, author=person, channel_id=channel_id, prefill=prefill)


@dataclass(frozen=True)
class MeetingStats:
    checks: int
    by_verdict: dict[str, int]
    converted: int  # meetings turned into async rounds
    hours_given_back: float  # person-hours of the converted meetings (per month for recurring ones)


async def meeting_stats(deps: Deps, *, workspace_id: int, start: datetime, end: datetime) -> MeetingStats:
    """Meeting checks of a workspace in [start, end) (for the weekly digest)."""
    async with deps.db.transaction() as conn:
        checks = await store.checks_between(conn, workspace_id, start, end)
    by_verdict = {v.name.lower(): 0 for v in Verdict}
    for check in checks:
        by_verdict[check.verdict] = by_verdict.get(check.verdict, 0) + 1
    converted = [c for c in checks if c.converted_at is not None]
    hours = sum(c.monthly_person_hours if c.monthly_person_hours is not None else c.person_hours for c in converted)
    return MeetingStats(len(checks), by_verdict, len(converted), round(hours, 2))
