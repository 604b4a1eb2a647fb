"""The stuck log: start it (`/stuck start`, or the agreement's action), record stuck moments, the
end-of-day question, the status, and the decision-rights report when it ends.

Every log starts through `begin_log`: it stores the log and queues its jobs in the caller's
transaction — `stuck-start:{log}` (the channel's announcement and every member's end-of-day
questions, `stuck-nudge:{log}:{member}:{day}`), `stuck-roster:{log}:{day}` at 09:00 of each later day
(the channel read again: who joined since gets the questions still to come) and `stuck-report:{log}`
at 17:00 of the last day.
A question that focus time or the team's hours push past its day is dropped: that day is over, the
next one has its own. The report reads the entries' kinds, deciders and waits only: no text, no names.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain import stuck as rules
from core.domain.refs import ChannelRef, PersonRef
from core.domain.rounds import next_working_moment, zone
from core.domain.text import N_
from core.jobs import queue
from core.jobs.queue import Job
from core.jobs.worker import Defer
from core.messages import stuck as views
from core.messages.i18n import Translator, translator
from core.messages.model import Form, Message
from core.persistence import agreements as agreement_store
from core.persistence import repository as repo
from core.persistence import stuck as store
from core.persistence.repository import MemberRow, WorkspaceRow
from core.persistence.stuck import LogRow
from core.ports import Unreachable
from core.services.deps import Deps
from core.services.outcomes import Done, Invalid
from core.services.nudges import nudge_moment
from core.services.rounds import errors_text, known_person, person_translator

log = logging.getLogger("unmeet.stuck")

START_JOB = "stuck.start"
NUDGE_JOB = "stuck.nudge"
REPORT_JOB = "stuck.report"
ROSTER_JOB = "stuck.roster"

E_NO_CHANNEL = N_("Use this in the team's channel.")
E_NOT_LEAD = N_("Only the lead of this team's agreement or a channel admin can start a stuck log.")
E_ALREADY = N_("A stuck log already runs in this channel, until {last}.")
E_ENDED = N_("This stuck log has ended, so nothing was saved. Your text is still here to copy.")


async def _who(deps: Deps, person: PersonRef) -> tuple[MemberRow, Translator]:
    member = await known_person(deps, person)
    return member, await person_translator(deps, member)


async def _running(deps: Deps, member: MemberRow, channel_id: str) -> tuple[int, LogRow | None]:
    async with deps.db.transaction() as conn:
        internal = await repo.ensure_channel(conn, member.workspace_id, channel_id)
        return internal, await store.running_log(conn, internal)


# --- the command ------------------------------------------------------------------------------------
async def stuck_command(deps: Deps, *, person: PersonRef, channel_id: str | None, text: str) -> Message | Form:
    """`/stuck` (status), `/stuck start [days]`, `/stuck <what I was waiting for>` (the form, prefilled)."""
    _member, t = await _who(deps, person)
    if not channel_id:
        return views.text(t.gettext(E_NO_CHANNEL))
    command = rules.parse_command(text)
    if isinstance(command, rules.BadDays):
        return views.text(t.gettext(rules.E_DAYS, min=rules.MIN_DAYS, max=rules.MAX_DAYS))
    if isinstance(command, rules.Start):
        return await start_log(deps, person=person, channel_id=channel_id, days=command.days)
    if isinstance(command, rules.Record):
        return await entry_form(deps, person=person, channel_id=channel_id, what=command.what)
    return await status(deps, person=person, channel_id=channel_id)


async def start_log(deps: Deps, *, person: PersonRef, channel_id: str, days: int) -> Message:
    """A lead starts the channel's log (with no agreement yet, anyone may: see `agreements.may_edit`)."""
    from core.services.agreements import may_edit

    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        internal = await repo.ensure_channel(conn, member.workspace_id, channel_id)
        agreement = await agreement_store.find_agreement(conn, internal)
    if not await may_edit(deps, agreement, member):
        return views.text(t.gettext(E_NOT_LEAD))
    async with deps.db.transaction() as conn:
        log_id = await begin_log(deps, conn, workspace_id=member.workspace_id, channel_id=internal,
                                 starter=member, days=days)
        row = await store.get_log(conn, log_id) if log_id else await store.running_log(conn, internal)
    if log_id is None:
        return views.text(t.gettext(E_ALREADY, last=t.date(row.days[-1], "EEEE d MMMM")))
    deps.wake_worker()
    return views.start_reply(t, first=row.days[0], last=row.days[-1], days=len(row.days))


async def begin_log(deps: Deps, conn: AsyncConnection, *, workspace_id: int, channel_id: int,
                    starter: MemberRow | None, days: int, action_id: int | None = None) -> int | None:
    """THE start of a stuck log (the command and the agreement's action both come here): the log and its
    jobs. None when the channel already has a running log or the action already started one."""
    now = deps.clock.now()
    tz = starter.tz if starter else None
    log_days = rules.log_days(now, tz, days)
    log_id = await store.insert_log(conn, workspace_id=workspace_id, channel_id=channel_id,
                                    started_by=starter.id if starter else None, action_id=action_id, days=log_days,
                                    tz=tz, starts_at=rules.starts_at(log_days, now, tz),
                                    ends_at=rules.report_due(log_days, tz), now=now)
    if log_id is None:
        return None
    await queue.enqueue(conn, START_JOB, f"stuck-start:{log_id}", {"log": log_id}, due_at=now, now=now,
                        workspace_id=workspace_id)
    for day in log_days[1:]:
        await queue.enqueue(conn, ROSTER_JOB, f"stuck-roster:{log_id}:{day.isoformat()}", {"log": log_id},
                            due_at=rules.at(day, rules.ROSTER_TIME, tz), now=now, workspace_id=workspace_id)
    await queue.enqueue(conn, REPORT_JOB, f"stuck-report:{log_id}", {"log": log_id},
                        due_at=rules.report_due(log_days, tz), now=now, workspace_id=workspace_id)
    return log_id


async def start_for_action(deps: Deps, conn: AsyncConnection, *, workspace_id: int, channel_id: int,
                           lead_id: int | None, action_id: int, days: int) -> int | None:
    """The agreement's action "keep a stuck log for N working days" was published: once per action."""
    if await store.log_of_action(conn, action_id) is not None:
        return None
    starter = None
    if lead_id is not None:
        try:
            starter = await repo.get_member(conn, lead_id)
        except NoResultFound:
            starter = None
    return await begin_log(deps, conn, workspace_id=workspace_id, channel_id=channel_id, starter=starter,
                           days=days, action_id=action_id)


async def status(deps: Deps, *, person: PersonRef, channel_id: str) -> Message:
    member, t = await _who(deps, person)
    _internal, row = await _running(deps, member, channel_id)
    if row is None:
        return views.none_running(t)
    async with deps.db.transaction() as conn:
        count = await store.entry_count(conn, row.id)
        own = await store.own_entries(conn, row.id, member.id)
    today = rules.local_day(deps.clock.now(), row.tz)
    return views.status(t, first=row.days[0], last=row.days[-1], today=today, days=row.days, team_count=count,
                        own=own)


# --- entries ------------------------------------------------------------------------------------------
def parse_log_id(value: str) -> int | None:
    raw = (value or "").partition(":")[0]
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2 ** 31 else None


async def entry_form(deps: Deps, *, person: PersonRef, channel_id: str | None = None, log_value: str = "",
                     what: str = "") -> Form | Message:
    """The form, prefilled with what was typed (or the message it was opened from); from the channel's
    running log, or from the log the end-of-day question is about (`log_value`)."""
    member, t = await _who(deps, person)
    if channel_id:
        _internal, row = await _running(deps, member, channel_id)
    else:
        async with deps.db.transaction() as conn:
            log_id = parse_log_id(log_value)
            row = await store.get_log(conn, log_id) if log_id else None
    if row is None or not row.running or row.workspace_id != member.workspace_id:
        return views.none_running(t)
    data = rules.EntryInput(what=what)
    errors = rules.check_entry(data)
    shown = {"what": errors["what"]} if "what" in errors and rules.clean(what) else {}  # a too-long text
    return views.form(t, log_id=row.id, data=data, errors=errors_text(t, shown))


async def submit_entry(deps: Deps, *, person: PersonRef, metadata: str, data: rules.EntryInput) -> Invalid | Done:
    """Save a stuck moment in the log the form was opened on. The same text again (a second submit) adds
    no row; an ended log gives the form back with the text and why."""
    member, t = await _who(deps, person)
    errors = errors_text(t, rules.check_entry(data))
    log_id = parse_log_id(metadata)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        row = await store.get_log(conn, log_id) if log_id else None
        if row is None or not row.running or row.workspace_id != member.workspace_id:
            errors = {**errors, "what": t.gettext(E_ENDED)}
        if errors:
            return Invalid(views.form(t, log_id=log_id or 0, data=data, errors=errors))
        own = await store.own_entries(conn, row.id, member.id)
        if any(e.what == rules.clean(data.what) for e in own):
            return Done(views.saved(t, again=True))
        await store.add_entry(conn, log_id=row.id, member_id=member.id, now=now,
                              entry=replace(data, other=data.other if data.kind == rules.Kind.OTHER else ""))
    return Done(views.saved(t, again=False))


async def not_stuck(deps: Deps, *, person: PersonRef) -> Message:
    """"No" to the end-of-day question: nothing to store."""
    _member, t = await _who(deps, person)
    return views.text(t.gettext("Good to hear. See you tomorrow."))


# --- jobs ---------------------------------------------------------------------------------------------
async def _running_log(deps: Deps, log_id: int) -> tuple[LogRow, WorkspaceRow] | None:
    async with deps.db.transaction() as conn:
        row = await store.get_log(conn, log_id)
        workspace = await repo.get_workspace(conn, row.workspace_id) if row else None
    return (row, workspace) if row is not None and row.running else None


async def _queue_questions(deps: Deps, row: LogRow, channel: ChannelRef) -> None:
    """The end-of-day questions still to come for everyone in the channel now; one key per person and
    day, so those queued already stay as they are."""
    people = [p for p in await deps.messenger(channel.workspace.platform).channel_members(channel)
              if not p.is_bot and not p.deleted]
    members = [await known_person(deps, person.ref) for person in people]  # their zones and languages
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        for member in members:
            for day, at in rules.nudge_times(row.days, member.tz or row.tz, now):
                await queue.enqueue(conn, NUDGE_JOB, f"stuck-nudge:{row.id}:{member.id}:{day.isoformat()}",
                                    {"log": row.id, "member": member.id, "day": day.isoformat()}, due_at=at, now=now,
                                    workspace_id=row.workspace_id)


async def start_job(deps: Deps, job: Job) -> None:
    """The announcement in the channel, and each member's end-of-day questions for the log's days."""
    found = await _running_log(deps, job.payload["log"])
    if found is None:
        return
    row, workspace = found
    messenger = deps.messenger(workspace.ref.platform)
    channel = ChannelRef(workspace.ref, row.channel_external_id)
    await _queue_questions(deps, row, channel)
    t = translator(workspace.locale, deps.settings.unmeet_default_locale)
    if job.recovered and await messenger.find_sent(channel, job.key) is not None:
        return
    announcement = views.started(t, first=row.days[0], last=row.days[-1], days=len(row.days),
                                 shortcut=workspace.ref.platform == "slack")
    await messenger.post(channel, announcement, key=job.key)


async def roster_job(deps: Deps, job: Job) -> None:
    """A later log day's morning: someone who joined the channel since gets the questions still to come."""
    found = await _running_log(deps, job.payload["log"])
    if found is not None:
        row, workspace = found
        await _queue_questions(deps, row, ChannelRef(workspace.ref, row.channel_external_id))


async def nudge_job(deps: Deps, job: Job) -> None:
    """"Were you stuck today?" once on each log day: inside the person's and the team's hours, never in
    focus time; dropped when that pushes it past the day, or when they noted one that day already."""
    now = deps.clock.now()
    day = date.fromisoformat(job.payload["day"])
    async with deps.db.transaction() as conn:
        row = await store.get_log(conn, job.payload["log"])
        if row is None or not row.running:
            return
        try:
            member = await repo.get_member(conn, job.payload["member"])
        except NoResultFound:
            return
        if member.deleted or member.is_bot or member.unreachable:
            return
        if any(rules.local_day(e.created_at, member.tz) == day for e in await store.own_entries(conn, row.id,
                                                                                                  member.id)):
            return
        moment = next_working_moment(await nudge_moment(conn, member_id=member.id, now=now, channel_id=row.channel_id),
                                     zone(member.tz))
    if rules.local_day(moment, member.tz) != day:
        return
    if moment > now:
        raise Defer(moment)
    t = await person_translator(deps, member)
    messenger = deps.messenger(member.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(member.ref, job.key) is not None:
        return
    try:
        await messenger.send_dm(member.ref, views.nudge_dm(t, log_id=row.id, day=day), key=job.key)
    except Unreachable as gone:
        log.info("stuck log question for %s not sent: %s", member.ref.id, gone)
        async with deps.db.transaction() as conn:
            await repo.mark_unreachable(conn, member.id, str(gone) or "unreachable")


def figures(days: int, entries: list[rules.Entry]) -> dict:
    """The report's team-level figures: counts per decision kind, never text or names."""
    return {"days": days, "total": len(entries),
            "groups": [{"kind": g.kind, "count": g.count, "unknown": g.unknown, "waits": g.waits,
                        "median_hours": g.median_hours, "proposal": g.proposal.value}
                       for g in rules.group_entries(entries)]}


async def report_job(deps: Deps, job: Job) -> None:
    """At 17:00 of the last day: close the log with its figures and proposal (the model's, from the
    counts only, when the workspace has it on; else the rule-based one), post the report to the channel."""
    from core.services import llm

    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        row = await store.get_log(conn, job.payload["log"])
        if row is None:
            return
        workspace = await repo.get_workspace(conn, row.workspace_id)
        if row.running and now < row.ends_at:
            raise Defer(row.ends_at)
        entries = await store.team_entries(conn, row.id) if row.running else []
    t = translator(workspace.locale, deps.settings.unmeet_default_locale)
    if row.running:
        report = figures(len(row.days), entries)
        drafted = await llm.decision_rights(deps, row.workspace_id, report["groups"], t.language) or {}
        report["proposal"] = [f"{views.kind_label(t, g['kind'])}: {drafted[g['kind']]}" if g["kind"] in drafted
                              else views.proposal_line(t, g["kind"], g["proposal"]) for g in report["groups"]]
        report["drafted"] = bool(drafted)
        async with deps.db.transaction() as conn:
            await store.close_log(conn, row.id, report=report, now=now)
            row = await store.get_log(conn, row.id)
    message = views.report(t, row.report, proposal=row.report["proposal"], drafted=row.report["drafted"],
                           log_id=row.id)
    messenger = deps.messenger(workspace.ref.platform)
    channel = ChannelRef(workspace.ref, row.channel_external_id)
    if job.recovered and await messenger.find_sent(channel, job.key) is not None:
        return
    await messenger.post(channel, message, key=job.key)


# --- adopting the proposal ----------------------------------------------------------------------------
async def adopt(deps: Deps, *, person: PersonRef, value: str) -> Message:
    """The report's "Adopt as rules": its proposal goes into the draft of the channel's agreement, for the
    lead to edit and publish (`agreements.add_rules` decides who may)."""
    from core.services.agreements import add_rules

    member, t = await _who(deps, person)
    log_id = parse_log_id(value)
    async with deps.db.transaction() as conn:
        row = await store.get_log(conn, log_id) if log_id else None
    if row is None or row.report is None or row.workspace_id != member.workspace_id:
        return views.text(t.gettext("That report is no longer stored."))
    async with deps.db.transaction() as conn:
        first = await store.mark_adopted(conn, row.id, deps.clock.now())
    if not first:
        return views.text(t.gettext("This proposal is in the agreement's draft already: /agreements edit."))
    added = await add_rules(deps, workspace=member.ref.workspace, channel=row.channel_external_id, by=person,
                            texts=row.report["proposal"])
    if added.refused:
        async with deps.db.transaction() as conn:
            await store.mark_adopted(conn, row.id, None)
        return views.text(added.refused)
    return views.adopted(t, added.added, needs_principle=added.needs_principle)


STUCK_JOBS = {START_JOB: start_job, ROSTER_JOB: roster_job, NUDGE_JOB: nudge_job, REPORT_JOB: report_job}
