"""The Driver's Seat: start, show and stop a run; each counted day's morning and evening DMs; skipping a
day; the three tasks and their ratings; the week card; and sharing the run with a coach, whose feedback
reaches the participant as a DM.

The nudges are outbox jobs queued when the run starts, one per counted day and moment:
`seat-morning:{run}:{day}` at the start of the person's working day and `seat-evening:{run}:{day}` at
its end, and `seat-week:{run}` the working morning after the last counted day. Each job checks, right
before sending, that its day is still a counted day of the person's current run (a stopped run, a
skipped day, a day already planned or rated: nothing is sent, and a key is never queued twice, so
there is no second nudge for a day) and passes the nudge gate (during focus time it waits until the
session ends). A skipped day makes the run a day longer: the new day's jobs are queued and the week
card moves. Tasks first named after the day's evening question came (and found none) bring it at once.

The coach gets a copy of each rated day (`seat-coach-day:{run}:{day}`) and of the week card
(`seat-coach-week:{run}`) while the run is shared with them; their feedback is a DM to the participant
(`seat-feedback:{id}`), sent only when they press Send; a coach hears once that a run is shared with
them (`seat-shared:{run}:{coach}`).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from functools import partial

from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain import drivers_seat as rules
from core.domain.refs import PersonRef
from core.domain.text import N_
from core.jobs import queue
from core.jobs.queue import Job
from core.messages import drivers_seat as views
from core.messages.i18n import Translator
from core.messages.model import Block, Form, Message
from core.persistence import drivers_seat as store
from core.persistence import repository as repo
from core.persistence.drivers_seat import DayRow, RunRow, Task
from core.persistence.repository import MemberRow
from core.ports import Unreachable
from core.services import llm
from core.services.deps import Deps
from core.services import completions
from core.services.nudges import hold_nudge
from core.services.outcomes import Done, Invalid
from core.services.rounds import HOME_REFRESH, errors_text, known_person, person_translator

log = logging.getLogger("unmeet.drivers_seat")

MORNING_KIND, EVENING_KIND, WEEK_KIND = "seat.morning", "seat.evening", "seat.week"
COACH_DAY_KIND, COACH_WEEK_KIND = "seat.coach_day", "seat.coach_week"
SHARED_KIND, FEEDBACK_KIND = "seat.shared", "seat.feedback"

S_GONE = N_("That day is no longer part of a Driver's Seat run of yours, so it can't be saved. Nothing else "
            "changed.")
S_RATE_FIRST = N_("Name the day's three tasks first; then you can rate them.")
S_RATED = N_("This day is rated already, so its tasks stay as they are.")
S_SELF = N_("Share your run with someone else: your coach, for example.")
S_BOT = N_("That is a bot, not a person. Share your run with your coach.")
S_NOT_SHARED = N_("This Driver's Seat run is no longer shared with you, so there is nothing to give feedback on.")
S_DRAFT_FAILED = N_("No draft this time (AI drafting is off or didn't answer). Write your own feedback here.")
S_WHO = N_("I don't know who that is. Mention one person, for example `/drivers-seat share @coach`.")


def _key(kind: str, run_id: int, day: date | None = None) -> str:
    return f"seat-{kind}:{run_id}" + (f":{day.isoformat()}" if day else "")


async def _who(deps: Deps, person: PersonRef) -> tuple[MemberRow, Translator]:
    member = await known_person(deps, person)
    return member, await person_translator(deps, member)


async def _refresh_home(conn: AsyncConnection, member: MemberRow, event: str, now) -> None:
    if member.home_opened_at is not None:
        await queue.enqueue(conn, HOME_REFRESH, f"home:seat:{member.id}:{event}:{now.isoformat()}",
                            {"member": member.id}, due_at=now, now=now, workspace_id=member.workspace_id)


async def _counted(conn: AsyncConnection, run: RunRow) -> tuple[tuple[date, ...], list[DayRow]]:
    rows = await store.days_of(conn, run.id)
    skipped = {row.day for row in rows if row.skipped}
    return rules.counted_days(run.first_day, run.days, skipped), rows


async def _schedule(conn: AsyncConnection, run: RunRow, member: MemberRow, now) -> None:
    """The morning and evening jobs of every counted day (those queued already stay as they are), and
    the week card after the last one."""
    days, rows = await _counted(conn, run)
    for day in days:
        payload = {"run": run.id, "member": member.id, "day": day.isoformat()}
        await queue.enqueue(conn, MORNING_KIND, _key("morning", run.id, day), payload,
                            due_at=max(now, rules.morning(day, member.tz)), now=now, workspace_id=run.workspace_id)
        await queue.enqueue(conn, EVENING_KIND, _key("evening", run.id, day), payload,
                            due_at=rules.evening(day, member.tz), now=now, workspace_id=run.workspace_id)
    skipped = {row.day for row in rows if row.skipped}
    await queue.enqueue(conn, WEEK_KIND, _key("week", run.id), {"run": run.id, "member": member.id},
                        due_at=rules.week_card_due(run.first_day, run.days, skipped, member.tz), now=now,
                        workspace_id=run.workspace_id, rearm=True)


# --- the command ---------------------------------------------------------------------------------------
async def command(deps: Deps, *, person: PersonRef, text: str, coach: PersonRef | None = None) -> Message:
    """`/drivers-seat …` (Teams: `drivers seat …` / `stuur …`). `coach`: the person a `share` names, as
    the platform resolved its mention (None: it named nobody the platform knows)."""
    parsed = rules.parse_command(text)
    if isinstance(parsed, rules.Start):
        return await start(deps, person=person, days=parsed.days)
    if isinstance(parsed, rules.Stop):
        return await stop(deps, person=person)
    if isinstance(parsed, rules.Share):
        return await share(deps, person=person, coach=coach)
    if isinstance(parsed, rules.Unshare):
        return await unshare(deps, person=person)
    if isinstance(parsed, rules.Unclear):
        _, t = await _who(deps, person)
        return views.text(t.gettext(parsed.error.message, **parsed.error.params))
    return await overview(deps, person=person)


async def overview(deps: Deps, *, person: PersonRef) -> Message:
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        run = await store.last_run(conn, member.id)
        if run is None:
            return views.nothing_yet(t)
        days, rows = await _counted(conn, run)
        coach_id = await store.coach_of(conn, run.id) if run.current else None
        coach = (await repo.get_member(conn, coach_id)).name if coach_id else None
    return views.overview(t, run, rows, coach, days)


async def start(deps: Deps, *, person: PersonRef, days: int = rules.DEFAULT_DAYS) -> Message:
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await store.hold_person(conn, member.id)
        if await store.current_run(conn, member.id) is not None:
            return views.already_running(t)
        run_id = await store.start_run(conn, workspace_id=member.workspace_id, member_id=member.id, days=days,
                                       first_day=rules.first_day(now, member.tz), now=now)
        run = await store.get_run(conn, run_id)
        await _schedule(conn, run, member, now)
        await _refresh_home(conn, member, "started", now)
        counted, _rows = await _counted(conn, run)
    deps.wake_worker()
    return views.started(t, run, counted)


async def stop(deps: Deps, *, person: PersonRef) -> Message:
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        run = await store.current_run(conn, member.id)
        if run is None or not await store.end_run(conn, run.id, reason="stopped", now=now):
            return views.no_run(t)
        await store.revoke(conn, run.id, now)
        await _refresh_home(conn, member, "stopped", now)
    return views.stopped(t)


async def share(deps: Deps, *, person: PersonRef, coach: PersonRef | None) -> Message:
    member, t = await _who(deps, person)
    if coach is None:
        return views.text(t.gettext(S_WHO))
    if coach == member.ref:
        return views.text(t.gettext(S_SELF))
    coach_member = await known_person(deps, coach)
    if coach_member.is_bot:
        return views.text(t.gettext(S_BOT))
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        run = await store.current_run(conn, member.id)
        if run is None:
            return views.no_run(t)
        if await store.coach_of(conn, run.id) != coach_member.id:
            await store.share(conn, run.id, coach_member.id, now)
            await queue.enqueue(conn, SHARED_KIND, f"seat-shared:{run.id}:{coach_member.id}",
                                {"run": run.id, "member": coach_member.id}, due_at=now, now=now,
                                workspace_id=run.workspace_id)
    deps.wake_worker()
    return views.shared(t, coach_member.name or coach.id)


async def unshare(deps: Deps, *, person: PersonRef) -> Message:
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        run = await store.current_run(conn, member.id)
        was = run is not None and await store.revoke(conn, run.id, deps.clock.now())
    return views.unshared(t, was)


async def home_blocks(conn: AsyncConnection, member: MemberRow, t: Translator) -> tuple[Block, ...]:
    """The Home's Driver's Seat section (core.services.home adds it)."""
    run = await store.current_run(conn, member.id)
    if run is None:
        return views.home_blocks(t, None, [], ())
    days, rows = await _counted(conn, run)
    return views.home_blocks(t, run, rows, days)


# --- a day's buttons and forms -------------------------------------------------------------------------
def parse_value(value: str) -> tuple[int | None, date | None]:
    """A day's button value (or form metadata) `{run}:{YYYY-MM-DD}` -> (run, day); None for what doesn't parse."""
    raw_id, _, raw_day = (value or "").partition(":")
    run_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() and 0 < int(raw_id) < 2 ** 31 else None
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        day = None
    return run_id, day


async def _own_day(conn: AsyncConnection, member: MemberRow, value: str) -> tuple[RunRow, date] | None:
    """The person's current run and the counted (or skippable) day a value names; None when it is gone."""
    run_id, day = parse_value(value)
    run = None if run_id is None else await store.get_run(conn, run_id)
    if run is None or day is None or run.member_id != member.id or not run.current:
        return None
    days, rows = await _counted(conn, run)
    return (run, day) if day in days or any(r.day == day and r.skipped for r in rows) else None


async def plan_form(deps: Deps, *, person: PersonRef, value: str) -> Form | Message:
    """The morning form: three tasks, the kinds pre-assigned (or the ones saved before)."""
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        found = await _own_day(conn, member, value)
        row = None if found is None else await store.get_day(conn, found[0].id, found[1])
    if found is None:
        return views.text(t.gettext(S_GONE))
    if row is not None and row.rated_at is not None:
        return views.text(t.gettext(S_RATED))
    tasks = row.tasks if row is not None and row.tasks else tuple(Task(kind, "") for kind in rules.KINDS)
    return views.tasks_form(t, metadata=value, day=found[1], kinds=tuple(task.kind for task in tasks),
                            texts=tuple(task.text for task in tasks))


async def save_tasks(deps: Deps, *, person: PersonRef, value: str, kinds: tuple[str | None, ...],
                     texts: tuple[str, ...]) -> Invalid | Done:
    """Save the morning's three tasks (saving again changes them: one row per day)."""
    member, t = await _who(deps, person)
    errors = errors_text(t, rules.check_tasks(tuple(zip(kinds, texts))))
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        found = await _own_day(conn, member, value)
        row = None if found is None else await store.get_day(conn, found[0].id, found[1])
        stale = S_GONE if found is None else S_RATED if row is not None and row.rated_at is not None else None
        if stale or errors:
            if stale:
                errors["task1"] = t.gettext(stale)
            _run_id, day = parse_value(value)
            return Invalid(views.tasks_form(t, metadata=value, day=day or now.date(), kinds=kinds, texts=texts,
                                            errors=errors))
        run, day = found
        was_skipped = row is not None and row.skipped
        first_plan = row is None or not row.tasks
        await store.save_tasks(conn, run, day, tuple(Task(k, rules.clean(x)) for k, x in zip(kinds, texts)), now)
        if was_skipped:  # counted again: the run is a day shorter than it had become
            await _schedule(conn, run, member, now)
        if first_plan and now >= rules.evening(day, member.tz):  # named after the evening's question found none
            await queue.enqueue(conn, EVENING_KIND, _key("evening", run.id, day),
                                {"run": run.id, "member": member.id, "day": day.isoformat()}, due_at=now, now=now,
                                workspace_id=run.workspace_id, rearm=True)
        await _refresh_home(conn, member, "planned", now)
    return Done(views.tasks_saved(t))


async def skip(deps: Deps, *, person: PersonRef, value: str) -> Message:
    """"I'm out today": the day is not counted, the run grows by a day."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        found = await _own_day(conn, member, value)
        row = None if found is None else await store.get_day(conn, found[0].id, found[1])
        if found is None:
            return views.text(t.gettext(S_GONE))
        if row is not None and row.rated_at is not None:
            return views.text(t.gettext(S_RATED))
        run, day = found
        await store.skip_day(conn, run, day)
        await _schedule(conn, run, member, now)
        await _refresh_home(conn, member, "skipped", now)
    deps.wake_worker()
    return views.skipped(t, day)


async def rate_form(deps: Deps, *, person: PersonRef, value: str) -> Form | Message:
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        found = await _own_day(conn, member, value)
        row = None if found is None else await store.get_day(conn, found[0].id, found[1])
    if found is None:
        return views.text(t.gettext(S_GONE))
    if row is None or not row.tasks or row.skipped:
        return views.text(t.gettext(S_RATE_FIRST))
    return views.ratings_form(t, metadata=value, row=row, ratings=tuple(task.rating for task in row.tasks),
                              whys=tuple(task.why or "" for task in row.tasks))


async def save_ratings(deps: Deps, *, person: PersonRef, value: str, ratings: tuple[str | None, ...],
                       whys: tuple[str, ...]) -> Invalid | Done:
    """Save the evening's ratings (again: they change, the coach's card is not sent twice)."""
    member, t = await _who(deps, person)
    errors = errors_text(t, rules.check_ratings(tuple(zip(ratings, whys))))
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        found = await _own_day(conn, member, value)
        row = None if found is None else await store.get_day(conn, found[0].id, found[1])
        usable = row is not None and bool(row.tasks) and not row.skipped
        if found is None or not usable or errors:
            if found is None or not usable:
                errors["rating1"] = t.gettext(S_GONE if found is None else S_RATE_FIRST)
            return Invalid(views.ratings_form(t, metadata=value, row=row if usable else None, ratings=ratings,
                                              whys=whys, errors=errors))
        run, day = found
        tasks = tuple(Task(task.kind, task.text, rating, rules.clean(why) or None)
                      for task, rating, why in zip(row.tasks, ratings, whys))
        await store.save_ratings(conn, row.id, tasks, now)
        coach_id = await store.coach_of(conn, run.id)
        if coach_id is not None:
            await queue.enqueue(conn, COACH_DAY_KIND, _key("coach-day", run.id, day),
                                {"run": run.id, "member": coach_id, "day": day.isoformat()}, due_at=now, now=now,
                                workspace_id=run.workspace_id)
        await _refresh_home(conn, member, "rated", now)
        row = await store.get_day(conn, run.id, day)
    deps.wake_worker()
    return Done(views.day_card(t, row))


# --- the coach's feedback ------------------------------------------------------------------------------
def parse_run(value: str) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2 ** 31 else None


async def _coached(conn: AsyncConnection, coach: MemberRow, run_id: int | None) -> tuple[RunRow, MemberRow] | None:
    """The run and its participant, when the run is shared with this coach now."""
    run = None if run_id is None else await store.get_run(conn, run_id)
    if run is None or await store.coach_of(conn, run.id) != coach.id:
        return None
    return run, await repo.get_member(conn, run.member_id)


async def feedback_form(deps: Deps, *, person: PersonRef, value: str) -> Form | Message:
    coach, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        found = await _coached(conn, coach, parse_run(value))
    if found is None:
        return views.text(t.gettext(S_NOT_SHARED))
    run, participant = found
    return views.feedback_form(t, run_id=run.id, name=participant.name,
                               can_draft=await llm.can_draft(deps, coach.workspace_id))


async def send_feedback(deps: Deps, *, person: PersonRef, value: str, text: str) -> Invalid | Done:
    """The coach pressed Send: the feedback is stored and DMed to the participant (once)."""
    coach, t = await _who(deps, person)
    run_id = parse_run(value)
    error = rules.check_feedback(text)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        found = await _coached(conn, coach, run_id)
        if found is not None and not error:
            run, participant = found
            feedback_id = await store.add_feedback(conn, run.id, coach.id, rules.clean(text), now)
            await queue.enqueue(conn, FEEDBACK_KIND, f"seat-feedback:{feedback_id}",
                                {"run": run.id, "member": participant.id, "feedback": feedback_id}, due_at=now,
                                now=now, workspace_id=run.workspace_id)
    if found is None or error:  # the form comes back with the text; the model's switch is read after the transaction
        errors = {"feedback": t.gettext(S_NOT_SHARED) if found is None else t.gettext(error.message, **error.params)}
        return Invalid(views.feedback_form(t, run_id=run_id or 0, name=found[1].name if found else "", value=text,
                                           errors=errors, can_draft=await llm.can_draft(deps, coach.workspace_id)))
    deps.wake_worker()
    return Done(views.feedback_sent(t, participant.name))


def name_scrubber(hidden: tuple[str, ...]):
    """A function that takes each word of these names out of a text (for what the model sees)."""
    parts = sorted({part for name in hidden if name for part in name.split() if len(part) > 1}, key=len, reverse=True)
    names = re.compile(r"\b(?:" + "|".join(map(re.escape, parts)) + r")\b", re.IGNORECASE) if parts else None
    return lambda text: names.sub("[person]", text) if names else text


def week_entries(rows: list[DayRow], hidden: tuple[str, ...] = ()) -> str:
    """A run's entries for the model: day numbers, kinds, colours, tasks and whys — no names, no dates
    (each word of the names in `hidden`, e.g. the participant's, is taken out of what they typed)."""
    scrub = name_scrubber(hidden)
    lines = []
    for number, row in enumerate((r for r in rows if not r.skipped and r.tasks), start=1):
        lines.append(f"Day {number}")
        lines += [f"- {task.kind}, {task.rating or 'not rated'}: {scrub(task.text)}"
                  + (f" (why: {scrub(task.why)})" if task.why else "") for task in row.tasks]
    return "\n".join(lines)


async def draft_feedback(deps: Deps, *, person: PersonRef, value: str, typed: str) -> Form:
    """"Draft feedback" in the coach's form: the form again with a draft from the week's entries in the
    field (the coach edits it; nothing is sent until they press Send). Without a model, or when it
    fails, the form comes back with what they typed and a sentence."""
    coach, t = await _who(deps, person)
    run_id = parse_run(value)
    async with deps.db.transaction() as conn:
        found = await _coached(conn, coach, run_id)
        rows = [] if found is None else (await _counted(conn, found[0]))[1]
    if found is None:
        return views.feedback_form(t, run_id=run_id or 0, name="", value=typed,
                                   errors={"feedback": t.gettext(S_NOT_SHARED)})
    run, participant = found
    entries = week_entries(rows, (participant.name, coach.name))
    draft = await llm.draft_feedback(deps, coach.workspace_id, entries, t.language) if entries else None
    if draft is None:
        return views.feedback_form(t, run_id=run.id, name=participant.name, value=typed, can_draft=True,
                                   errors={"feedback": t.gettext(S_DRAFT_FAILED)})
    return views.feedback_form(t, run_id=run.id, name=participant.name, value=draft, can_draft=True)


# --- the jobs ------------------------------------------------------------------------------------------
async def _send(deps: Deps, member: MemberRow, job: Job, build) -> None:
    """Send a DM built in the person's language (once: a recovered job looks for it first)."""
    t = await person_translator(deps, member)
    messenger = deps.messenger(member.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(member.ref, job.key) is not None:
        return
    try:
        await messenger.send_dm(member.ref, build(t), key=job.key)
    except Unreachable as gone:
        log.info("driver's seat DM %s for %s not sent: %s", job.kind, member.ref.id, gone)
        async with deps.db.transaction() as conn:
            await repo.mark_unreachable(conn, member.id, str(gone) or "unreachable")


async def _reachable(conn: AsyncConnection, member_id: int) -> MemberRow | None:
    try:
        member = await repo.get_member(conn, member_id)
    except NoResultFound:
        return None
    return None if member.deleted or member.is_bot or member.unreachable else member


async def day_job(deps: Deps, job: Job) -> None:
    """The morning's "which three tasks?" or the evening's "how did it go?" of one counted day: only while
    the day is counted and not yet planned (morning) or planned but not rated (evening); never in focus
    time (deferred to the session's end)."""
    now = deps.clock.now()
    morning = job.kind == MORNING_KIND
    day = date.fromisoformat(job.payload["day"])
    async with deps.db.transaction() as conn:
        run = await store.get_run(conn, job.payload["run"])
        if run is None or not run.current:
            return
        days, _rows = await _counted(conn, run)
        row = await store.get_day(conn, run.id, day)
        member = await _reachable(conn, run.member_id)
        if member is None or day not in days:
            return  # erased or gone, or the day was skipped
        if morning and ((row is not None and row.tasks) or now >= rules.evening(day, member.tz)):
            return  # planned already, or held back (focus time) until the day was over
        if not morning and (row is None or not row.tasks or row.rated_at is not None):
            return  # nothing to rate (missing a day is fine), or rated already
        await hold_nudge(conn, member_id=member.id, now=now)
    await _send(deps, member, job, partial(views.morning_dm, run=run, day=day) if morning
                else partial(views.evening_dm, run=run, row=row))


async def week_job(deps: Deps, job: Job) -> None:
    """The morning after the last counted day: the run ends and the week card goes to the person (and,
    as its own DM, to the coach it is shared with)."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        run = await store.get_run(conn, job.payload["run"])
        if run is None or run.end_reason == "stopped":
            return
        member = await _reachable(conn, run.member_id)
        if member is None:
            return
        if run.current:
            await hold_nudge(conn, member_id=member.id, now=now)
            await store.end_run(conn, run.id, reason="finished", now=now)
            await completions.announce(conn, workspace_id=run.workspace_id, member_id=member.id,
                                       kind=completions.DRIVERS_SEAT, at=now, ref=run.id)
            coach_id = await store.coach_of(conn, run.id)
            if coach_id is not None:
                await queue.enqueue(conn, COACH_WEEK_KIND, _key("coach-week", run.id),
                                    {"run": run.id, "member": coach_id}, due_at=now, now=now,
                                    workspace_id=run.workspace_id)
            await _refresh_home(conn, member, "finished", now)
        _days, rows = await _counted(conn, run)
    deps.wake_worker()
    await _send(deps, member, job, partial(views.week_card, run=run, rows=rows))


async def coach_job(deps: Deps, job: Job) -> None:
    """A copy for the coach (a rated day, the week card), only while the run is shared with them."""
    async with deps.db.transaction() as conn:
        run = await store.get_run(conn, job.payload["run"])
        if run is None or await store.coach_of(conn, run.id) != job.payload["member"]:
            return  # unshared (or shared with someone else) since
        coach = await _reachable(conn, job.payload["member"])
        if coach is None:
            return
        name = (await repo.get_member(conn, run.member_id)).name
        if job.kind == COACH_DAY_KIND:
            row = await store.get_day(conn, run.id, date.fromisoformat(job.payload["day"]))
            if row is None or row.rated_at is None:
                return
            build = partial(views.day_card, row=row, about=name, run_id=run.id)
        else:
            _days, rows = await _counted(conn, run)
            build = partial(views.week_card, run=run, rows=rows, about=name)
    await _send(deps, coach, job, build)


async def shared_job(deps: Deps, job: Job) -> None:
    """The coach hears that a run is shared with them (while it still is)."""
    async with deps.db.transaction() as conn:
        run = await store.get_run(conn, job.payload["run"])
        coach = await _reachable(conn, job.payload["member"])
        if run is None or coach is None or await store.coach_of(conn, run.id) != coach.id:
            return
        name = (await repo.get_member(conn, run.member_id)).name
    await _send(deps, coach, job, partial(views.shared_with_you, name=name))


async def feedback_job(deps: Deps, job: Job) -> None:
    """The coach's feedback, as a DM to the participant."""
    async with deps.db.transaction() as conn:
        found = await store.get_feedback(conn, job.payload["feedback"])
        participant = await _reachable(conn, job.payload["member"])
        if found is None or participant is None:
            return  # erased since
        _run_id, coach_id, text = found
        coach_name = (await repo.get_member(conn, coach_id)).name
    await _send(deps, participant, job, partial(views.feedback_dm, coach=coach_name, feedback=text))


DRIVERS_SEAT_JOBS = {MORNING_KIND: day_job, EVENING_KIND: day_job, WEEK_KIND: week_job, COACH_DAY_KIND: coach_job,
                     COACH_WEEK_KIND: coach_job, SHARED_KIND: shared_job, FEEDBACK_KIND: feedback_job}
