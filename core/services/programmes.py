"""Programme mode: a coach sets up a programme (from the template file), its cohort is read from a
channel, each assignment reaches each participant by DM when its session starts, one reminder comes
before the next session if it is not done, and the coach gets a briefing a day before each later
session. The coach sees participants × assignments (`/programme status`) and can export it as CSV or
copy the programme for the next cohort.

Completion comes from the features (core.services.completions), never from a participant's tick.
Every coach action checks that the person is the programme's coach; a participant sees only their own
assignments.

Jobs (unique keys; every DM passes the nudge gate and the person's working hours):
    programme.cohort   `programme-cohort:{programme}`             the channel's members become the cohort
    programme.open     `programme-open:{assignment}:{member}`     the assignment's DM
    programme.remind   `programme-remind:{assignment}:{member}`   the one reminder, never after the session
    programme.briefing `programme-brief:{programme}:{session}`    the coach's briefing
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain import programmes as rules
from core.domain.programmes import Setup, State
from core.domain.refs import ChannelRef, PersonRef
from core.domain.rounds import next_working_moment, reminder_time, zone
from core.domain.text import N_
from core.jobs import queue
from core.jobs.queue import Job
from core.jobs.worker import Defer
from core.messages import programmes as views
from core.messages.i18n import Translator
from core.messages.model import Form, Message
from core.persistence import drivers_seat as seat_store
from core.persistence import programmes as store
from core.persistence import repository as repo
from core.persistence.drivers_seat import DayRow
from core.persistence.programmes import AssignmentRow, ProgrammeRow
from core.persistence.repository import MemberRow
from core.ports import Unreachable
from core.services.completions import DRIVERS_SEAT
from core.services import llm
from core.services.deps import Deps
from core.services.drivers_seat import name_scrubber, week_entries
from core.services.nudges import hold_nudge
from core.services.outcomes import Done, Invalid
from core.services.rounds import errors_text, known_person, person_translator

log = logging.getLogger("unmeet.programmes")

COHORT_KIND, OPEN_KIND, REMIND_KIND, BRIEFING_KIND = ("programme.cohort", "programme.open", "programme.remind",
                                                      "programme.briefing")

S_NONE = N_("You have no programme yet. A coach sets one up with `/programme new` (Teams: `programme new`).")
S_COACH_ONLY = N_("Only the programme's coach can export its status.")
S_NOTHING_TO_COPY = N_("You coach no programme yet, so there is nothing to copy. `/programme new` sets one up.")
S_HELP = N_("`/programme` shows your programmes; `new` sets one up, `copy` copies your latest for the next cohort, "
            "`export` sends its status as CSV, `remove @name` takes someone out of the cohort.")
S_REMOVE_WHO = N_("Mention the participant to take out, for example `/programme remove @name`.")
S_REMOVE_COACH_ONLY = N_("Only the programme's coach can take someone out of its cohort.")
S_NOT_IN_COHORT = N_("{name} is not in the cohort of a programme you coach.")
S_REMOVED = N_("{name} is no longer in “{programme}”: no more assignments or reminders. What they did in the app "
               "stays theirs.")


async def _who(deps: Deps, person: PersonRef) -> tuple[MemberRow, Translator]:
    member = await known_person(deps, person)
    return member, await person_translator(deps, member)


def _template(deps: Deps, template_id: str | None = None) -> rules.Template:
    return rules.load_template(template_id or deps.settings.unmeet_programme_template)


# --- the coach's commands ------------------------------------------------------------------------------
async def programme_command(deps: Deps, *, person: PersonRef, text: str, channel_id: str | None,
                            who: PersonRef | None = None) -> Message | Form:
    """`/programme [status | new | copy | export | remove @name]` (Teams: `programme …` / `traject …`).
    `who`: the person a `remove` names, as the platform resolved its mention."""
    word = (text or "").strip().lower().split(" ")[0]
    if word in ("remove", "verwijder"):
        return await remove(deps, person=person, who=who)
    if word in ("new", "nieuw"):
        return await new_form(deps, person=person, channel_id=channel_id)
    if word in ("copy", "kopieer", "kopiëren"):
        return await copy_form(deps, person=person, channel_id=channel_id)
    if word in ("export", "exporteer", "csv"):
        return await export(deps, person=person)
    if word in ("", "status"):
        return await status(deps, person=person)
    _, t = await _who(deps, person)
    return views.text(t.gettext(S_HELP))


def _metadata(template_id: str, copied_from: int | None) -> str:
    return f"{template_id};{copied_from or ''}"


async def new_form(deps: Deps, *, person: PersonRef, channel_id: str | None) -> Form:
    member, t = await _who(deps, person)
    template = _template(deps)
    today = deps.clock.now().astimezone(zone(member.tz)).date()
    return views.setup_form(t, name=rules.localised(template.name, t.language), channel_id=channel_id,
                            dates=rules.session_dates(template, rules.first_session_default(today)),
                            titles=tuple(rules.localised(a.title, t.language) for a in template.assignments),
                            metadata=_metadata(template.id, None))


async def copy_form(deps: Deps, *, person: PersonRef, channel_id: str | None) -> Form | Message:
    """The coach's latest programme for the next cohort: its name, titles and template, dates from next week."""
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        coached = await store.coached_by(conn, member.id)
        if not coached:
            return views.text(t.gettext(S_NOTHING_TO_COPY))
        source = coached[0]
        titles = tuple(a.title_in(t.language) for a in await store.assignments(conn, source.id))
    template = _template(deps, source.template)
    today = deps.clock.now().astimezone(zone(member.tz)).date()
    return views.setup_form(t, name=source.name, channel_id=channel_id,
                            dates=rules.session_dates(template, rules.first_session_default(today)),
                            titles=titles, metadata=_metadata(source.template, source.id))


async def submit_setup(deps: Deps, *, person: PersonRef, setup: Setup, metadata: str) -> Invalid | Done:
    """Validate the coach's form and set the programme up; the cohort is read by a job (a channel's
    members take a few calls)."""
    member, t = await _who(deps, person)
    template_id, _, copied = metadata.partition(";")
    template = _template(deps, template_id or None)
    copied_from = int(copied) if copied.isdigit() else None
    titles = setup.titles[:len(template.assignments)] if copied_from is None else setup.titles
    today = deps.clock.now().astimezone(zone(member.tz)).date()
    setup = Setup(setup.name, setup.channel_id, setup.dates[:len(template.weeks)], titles)
    errors = rules.validate_setup(setup, today=today)
    if errors:
        return Invalid(views.setup_form(t, name=setup.name, channel_id=setup.channel_id, dates=setup.dates,
                                        titles=setup.titles, metadata=metadata, errors=errors_text(t, errors)))
    now = deps.clock.now()
    sessions = [rules.session_start(day, member.tz) for day in setup.dates]
    async with deps.db.transaction() as conn:
        source = await store.get(conn, copied_from) if copied_from else None
        source_assignments = await store.assignments(conn, source.id) if source and source.coach_id == member.id \
            else None
        # A copy keeps the source's assignments (kinds, buttons, sessions); a new one the template's. A title
        # left as the template wrote it is kept in every language, so each person reads it in theirs.
        plan = [(a.kind, a.titles, a.how, a.start, a.opens_after, a.due_before) for a in source_assignments] \
            if source_assignments else [(a.kind, a.title, a.how, a.start, a.opens_after, a.due_before)
                                        for a in template.assignments]
        assignments = [{"kind": kind, "title": title.strip(), "start": start, "opens_after": opens, "due_before": due,
                        "titles": titles if titles and title.strip() == rules.localised(titles, t.language) else None,
                        "how": how}
                       for title, (kind, titles, how, start, opens, due) in zip(setup.titles, plan) if title.strip()]
        channel_id = await repo.ensure_channel(conn, member.workspace_id, setup.channel_id.strip())
        programme_id = await store.create(
            conn, workspace_id=member.workspace_id, coach_id=member.id, channel_id=channel_id,
            name=setup.name.strip(), template=template.id, locale=t.language,
            copied_from=source.id if source_assignments else None, sessions=sessions, assignments=assignments,
            now=now)
        await queue.enqueue(conn, COHORT_KIND, f"programme-cohort:{programme_id}", {"programme": programme_id},
                            due_at=now, now=now, workspace_id=member.workspace_id)
        for number, at in enumerate(sessions[1:], start=2):
            due = reminder_time(at, member.tz, now)  # a day before, in the coach's working hours
            if due is not None:
                await queue.enqueue(conn, BRIEFING_KIND, f"programme-brief:{programme_id}:{number}",
                                    {"programme": programme_id, "session": number, "member": member.id},
                                    due_at=due, now=now, workspace_id=member.workspace_id)
    deps.wake_worker()
    return Done(views.set_up(t, setup.name.strip(), sessions, member.tz))


async def remove(deps: Deps, *, person: PersonRef, who: PersonRef | None) -> Message:
    """The coach takes someone out of the cohort of their newest programme that has them: their pending
    DMs find them gone and are not sent; a re-read of the channel leaves them out."""
    member, t = await _who(deps, person)
    if who is None:
        return views.text(t.gettext(S_REMOVE_WHO))
    participant = await known_person(deps, who)
    name = participant.name or who.id
    async with deps.db.transaction() as conn:
        coached = await store.coached_by(conn, member.id)
        if not coached:
            return views.text(t.gettext(S_REMOVE_COACH_ONLY))
        for programme in coached:
            if await store.remove_participant(conn, programme.id, participant.id, deps.clock.now()):
                return views.text(t.gettext(S_REMOVED, name=name, programme=programme.name))
    return views.text(t.gettext(S_NOT_IN_COHORT, name=name))


# --- status --------------------------------------------------------------------------------------------
async def _cells(conn: AsyncConnection, programme: ProgrammeRow, member_ids: list[int],
                 now: datetime) -> tuple[list[datetime], list[AssignmentRow], dict[int, list[views.Cell]]]:
    sessions = await store.sessions(conn, programme.id)
    assignments = await store.assignments(conn, programme.id)
    done = await store.first_completions(conn, member_ids, {a.kind for a in assignments}, sessions[0])
    shared_runs = await store.runs_shared_with(conn, programme.coach_id, [
        int(ref) for (_, kind), (_, ref) in done.items() if kind == DRIVERS_SEAT and ref.isdigit()])
    cells: dict[int, list[views.Cell]] = {}
    for member_id in member_ids:
        row = []
        for a in assignments:
            opens_at, due_at = sessions[a.opens_after - 1], sessions[a.due_before - 1]
            at, ref = done.get((member_id, a.kind), (None, ""))
            if at is not None and at < opens_at:
                at = None  # done before it was given (counted from session 1 only for what opens then)
            state = rules.state(opens_at=opens_at, due_at=due_at, done_at=at, now=now)
            row.append(views.Cell(state, shared=a.kind == DRIVERS_SEAT and ref.isdigit() and int(ref) in shared_runs))
        cells[member_id] = row
    return sessions, assignments, cells


async def _overview(conn: AsyncConnection, programme: ProgrammeRow, now: datetime, language: str) -> views.Overview:
    people = await store.participants(conn, programme.id)
    sessions, assignments, cells = await _cells(conn, programme, [p.member_id for p in people], now)
    waiting = not people and await queue.pending(conn, f"programme-cohort:{programme.id}")
    return views.Overview(programme.name, tuple(sessions), tuple(a.title_in(language) for a in assignments),
                          tuple((p.name or p.external_id, tuple(cells[p.member_id])) for p in people), waiting)


async def _mine(conn: AsyncConnection, programme: ProgrammeRow, member: MemberRow, t: Translator,
                now: datetime) -> Message:
    """A participant's own assignments in one programme, and nothing of anybody else's."""
    sessions, assignments, cells = await _cells(conn, programme, [member.id], now)
    items = [(a.title_in(t.language), cell.state, sessions[a.due_before - 1])
             for a, cell in zip(assignments, cells[member.id])]
    return views.mine(t, programme.name, items, member.tz)


async def status(deps: Deps, *, person: PersonRef) -> Message:
    """The coach: each programme they run (newest first, three at most). A participant: their own
    assignments, and nothing of anybody else's."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        coached = await store.coached_by(conn, member.id)
        if coached:
            return _joined([views.overview(t, await _overview(conn, p, now, t.language), member.tz)
                            for p in coached[:3]])
        joined = await store.joined_by(conn, member.id)
        if not joined:
            return views.text(t.gettext(S_NONE))
        messages = [await _mine(conn, programme, member, t, now) for programme in joined[:3]]
    return _joined(messages)


HOME_PEOPLE = 15  # the coach's Home shows this many participants' rows (Slack's Home holds 100 blocks)


async def home_blocks(conn: AsyncConnection, member: MemberRow, t: Translator, now: datetime) -> tuple:
    """The Home's programme section (core.services.home adds it): the coach's newest programme, or the
    participant's own assignments in their newest one; nothing for anybody else."""
    coached = await store.coached_by(conn, member.id)
    if coached:
        view = await _overview(conn, coached[0], now, t.language)
        return views.home_blocks(t, views.overview(t, view, member.tz, limit=HOME_PEOPLE), coach=True)
    joined = await store.joined_by(conn, member.id)
    if not joined:
        return ()
    return views.home_blocks(t, await _mine(conn, joined[0], member, t, now), coach=False)


def _joined(messages: list[Message]) -> Message:
    return Message(tuple(block for m in messages for block in m.blocks), fallback=messages[0].fallback)


async def export(deps: Deps, *, person: PersonRef) -> Message:
    """The coach's latest programme as CSV: one row per participant and assignment."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        coached = await store.coached_by(conn, member.id)
        if not coached:
            joined = await store.joined_by(conn, member.id)
            return views.text(t.gettext(S_COACH_ONLY if joined else S_NONE))
        programme = coached[0]
        view = await _overview(conn, programme, now, t.language)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t.gettext("participant"), t.gettext("assignment"), t.gettext("status")])
    for who, cells in view.rows:
        for title, cell in zip(view.titles, cells):
            writer.writerow([who, title, cell.state.value])
    return views.export_message(t, programme.name, out.getvalue(), f"programme-{programme.id}.csv")


# --- jobs ----------------------------------------------------------------------------------------------
async def cohort_job(deps: Deps, job: Job) -> None:
    """The channel's members (not the coach, no bots) join; each gets every assignment's DM and reminder.
    It reads the channel again each day until the last session, so someone who joins the channel later
    gets what is still to do (what is past its session is not sent); someone the coach took out stays out."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        programme = await store.get(conn, job.payload["programme"])
        if programme is None or programme.channel_external_id is None:
            return
        coach = await repo.get_member(conn, programme.coach_id)
    people = await deps.messenger(coach.ref.workspace.platform).channel_members(
        ChannelRef(coach.ref.workspace, programme.channel_external_id))
    member_ids = []
    for person in people:  # a cohort is a few dozen people: each is looked up once (names, bots, language)
        if person.ref.id == coach.ref.id or person.is_bot or person.deleted:
            continue
        member = await known_person(deps, person.ref)
        if not (member.is_bot or member.deleted):
            member_ids.append(member.id)
    async with deps.db.transaction() as conn:
        known = await store.ever_in(conn, programme.id)
        member_ids = [m for m in member_ids if m not in known]
        await store.add_participants(conn, programme.id, member_ids, now)
        sessions = await store.sessions(conn, programme.id)
        for a in await store.assignments(conn, programme.id):
            opens_at, due_at = sessions[a.opens_after - 1], sessions[a.due_before - 1]
            await queue.enqueue_many(conn, OPEN_KIND, [(f"programme-open:{a.id}:{m}", {"assignment": a.id, "member": m})
                                                       for m in member_ids],
                                     due_at=max(now, opens_at), now=now, workspace_id=programme.workspace_id)
            await queue.enqueue_many(conn, REMIND_KIND, [
                (f"programme-remind:{a.id}:{m}", {"assignment": a.id, "member": m}) for m in member_ids],
                due_at=max(now, opens_at, due_at - rules.REMIND_EARLIEST), now=now, workspace_id=programme.workspace_id)
        if now < sessions[-1]:
            tomorrow = now + timedelta(days=1)
            await queue.enqueue(conn, COHORT_KIND, f"programme-cohort:{programme.id}:{tomorrow.date().isoformat()}",
                                {"programme": programme.id}, due_at=tomorrow, now=now,
                                workspace_id=programme.workspace_id)
    deps.wake_worker()


async def _assignment_dm(deps: Deps, job: Job, *, reminder: bool) -> None:
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        assignment = await store.get_assignment(conn, job.payload["assignment"])
        if assignment is None or not await store.is_participant(conn, assignment.programme_id, job.payload["member"]):
            return  # the programme was deleted, or the person erased
        programme = await store.get(conn, assignment.programme_id)
        sessions = await store.sessions(conn, programme.id)
        opens_at, due_at = sessions[assignment.opens_after - 1], sessions[assignment.due_before - 1]
        member = await repo.get_member(conn, job.payload["member"])
        if member.deleted or member.is_bot or member.unreachable:
            return
        if await store.completed_since(conn, member.id, assignment.kind, opens_at):
            return  # done already: no assignment DM, no reminder
        if now >= due_at:
            return  # its session has come: no assignment DM and no reminder after it (the status says late)
        if now < opens_at:
            raise Defer(opens_at)
        if reminder:
            moment = reminder_time(due_at, member.tz, now)
            if moment is None:
                return
        else:
            moment = next_working_moment(now, zone(member.tz))
        if moment > now:
            raise Defer(moment)
        await hold_nudge(conn, member_id=member.id, now=now)
    t = await person_translator(deps, member)
    messenger = deps.messenger(member.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(member.ref, job.key) is not None:
        return
    message = views.assignment_dm(t, programme=programme.name, title=assignment.title_in(t.language),
                                  how=assignment.how_in(t.language),
                                  start=assignment.start, due=due_at, tz=member.tz, reminder=reminder)
    try:
        await messenger.send_dm(member.ref, message, key=job.key)
    except Unreachable as gone:
        log.info("programme DM for %s not sent: %s", member.ref.id, gone)
        async with deps.db.transaction() as conn:
            await repo.mark_unreachable(conn, member.id, str(gone) or "unreachable")


async def open_job(deps: Deps, job: Job) -> None:
    await _assignment_dm(deps, job, reminder=False)


async def remind_job(deps: Deps, job: Job) -> None:
    await _assignment_dm(deps, job, reminder=True)


def shared_text(runs: list[list[DayRow]], one_things: list[str], agreements: list[dict], hidden: tuple[str, ...]) -> str:
    """What the cohort shared with the coach, for the model: no names (each word of the names in
    `hidden`, the cohort's and the coach's, is taken out of what they wrote), no dates."""
    scrub = name_scrubber(hidden)
    parts = [f"Driver's Seat week {number}\n" + week_entries(rows, hidden) for number, rows in enumerate(runs, start=1)]
    if one_things:
        parts.append("One Things shared with their teams\n" + "\n".join(f"- {scrub(x)}" for x in one_things))
    for number, content in enumerate(agreements, start=1):
        principles = [f"- {scrub(x)}" for x in content.get("principles", ())]
        rules_ = [f"- {scrub(r.get('text') or r.get('kind', ''))}" for r in content.get("rules", ())]
        parts.append("\n".join([f"Team agreement {number}", "Principles:", *principles, "Rules:", *rules_]))
    return "\n\n".join(parts)


async def _shared_with_coach(conn: AsyncConnection, programme: ProgrammeRow, coach: MemberRow) -> str:
    people = await store.participants(conn, programme.id)
    sessions = await store.sessions(conn, programme.id)
    shared = await store.shared_with_coach(conn, coach.id, [p.member_id for p in people], sessions[0])
    runs = [await seat_store.days_of(conn, run_id) for run_id in shared.run_ids]
    return shared_text(runs, list(shared.one_things), list(shared.agreements),
                       tuple(p.name or "" for p in people) + (coach.name or "",))


async def briefing_job(deps: Deps, job: Job) -> None:
    """A day before session N: the cohort's progress, to the coach; with the model on, themes and
    questions from what the cohort shared with them."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        programme = await store.get(conn, job.payload["programme"])
        if programme is None:
            return
        coach = await repo.get_member(conn, programme.coach_id)
        await hold_nudge(conn, member_id=coach.id, now=now)
        t = await person_translator(deps, coach)
        view = await _overview(conn, programme, now, t.language)
        shared = await _shared_with_coach(conn, programme, coach)
    summary = await llm.programme_briefing(deps, coach.workspace_id, shared, t.language)
    number = job.payload["session"]
    counts: list[dict[State, int]] = [{} for _ in view.titles]
    for _who_name, cells in view.rows:
        for i, cell in enumerate(cells):
            counts[i][cell.state] = counts[i].get(cell.state, 0) + 1
    shared_runs = sum(1 for _who_name, cells in view.rows for cell in cells if cell.shared)
    message = views.briefing(t, programme=programme.name, session=number, at=view.sessions[number - 1], tz=coach.tz,
                             titles=view.titles, counts=counts, people=len(view.rows), shared_runs=shared_runs,
                             themes=summary.themes if summary else (), questions=summary.questions if summary else ())
    messenger = deps.messenger(coach.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(coach.ref, job.key) is not None:
        return
    await messenger.send_dm(coach.ref, message, key=job.key)


PROGRAMME_JOBS = {COHORT_KIND: cohort_job, OPEN_KIND: open_job, REMIND_KIND: remind_job, BRIEFING_KIND: briefing_job}
