"""The weekly digest: building it from a handful of aggregate queries, scheduling it, posting it.

Schedule: an hourly `digest.schedule` job (one row per UTC hour, key `digest.schedule:{hour}`) makes
sure every active channel has its next `digest.post` job, whose key `digest:{channel}:{iso-week}` is
unique — so however many schedulers and workers race, each channel gets one row, and so one digest,
per week. A week with nothing to say posts nothing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.digest import (ACTIVE_WEEKS, HISTORY_WEEKS, Digest, Week, WeekPoint, next_digest, week_of,
                                week_starting)
from core.domain.focus import DEFAULT_WEEKLY_GOAL
from core.domain.refs import ChannelRef, PersonRef
from core.domain.rounds import RoundStatus
from core.jobs import queue
from core.jobs.queue import Job
from core.messages import digest as views
from core.messages.i18n import translator
from core.messages.model import Message, Notice, rich
from core.persistence.agreements import agreement_week
from core.persistence import digest as store
from core.persistence import drivers_seat as seat_store
from core.persistence import one_thing as one_thing_store
from core.persistence import stuck as stuck_store
from core.persistence.digest import ChannelContext
from core.services.deps import Deps
from core.services.rounds import known_person

log = logging.getLogger("unmeet.digest")

SCHEDULE_KIND = "digest.schedule"
POST_KIND = "digest.post"


def digest_key(channel_id: int, week: Week) -> str:
    return f"digest:{channel_id}:{week.key}"


def history_weeks(week: Week, tz: str) -> list[Week]:
    """The chart's weeks: `week` and the ones before it, oldest first."""
    return [week_starting(week.first_day - timedelta(weeks=n), tz) for n in range(HISTORY_WEEKS - 1, -1, -1)]


async def build_digest(conn: AsyncConnection, context: ChannelContext, week: Week, now: datetime) -> Digest:
    """Every figure of one channel's week, from aggregate statements (their number does not grow
    with the data: rounds are listed, answers only counted)."""
    listed = await store.week_rounds(conn, context.channel_id, week)
    participation = await store.participation(conn, context.channel_id, week)
    weeks = history_weeks(week, context.tz)
    answers = await store.answers_per_week(conn, context.channel_id, weeks)
    focus = await store.focus_week(conn, context.channel_id, context.workspace_id, week, now,
                                   DEFAULT_WEEKLY_GOAL)
    focus_history = await store.focus_per_week(conn, context.channel_id, weeks, now)
    meetings = await store.meeting_week(conn, context.channel_id, week)
    one_things = await one_thing_store.shared_for_team(conn, context.channel_id, min(now, week.end))
    agreement = await agreement_week(conn, context.channel_id)
    stuck_count = await stuck_store.running_count(conn, context.channel_id)
    seat_people, seat_rated = await seat_store.team_week(conn, context.channel_id, week, now)

    def in_week(moment: datetime | None) -> bool:
        return moment is not None and week.start <= moment < week.end

    opened = tuple(line for _, line in listed if in_week(line.created_at))
    closed = tuple(line for status, line in listed if status == RoundStatus.CLOSED and in_week(line.closed_at))
    coming = tuple(sorted((line for status, line in listed if status == RoundStatus.OPEN),
                          key=lambda line: (line.deadline_at, line.id)))
    history = tuple(WeekPoint(w.first_day, n, round(sum(mix.values()), 1), mix)
                    for w, n, mix in zip(weeks, answers, focus_history))
    return Digest(channel=context.ref, week=week, tz=context.tz, locale=context.locale or "en", opened=opened,
                  closed=closed, coming=coming, participation=participation, focus=focus, meetings=meetings,
                  history=history, one_things=tuple(one_things), agreement=agreement,
                  stuck_count=stuck_count, seat_people=seat_people, seat_rated=tuple(seat_rated))


async def _links(deps: Deps, digest: Digest) -> dict[int, str]:
    """Thread links where the platform can give them (Slack: chat.getPermalink; Teams: a deep link from
    what the bot stored about the team); none otherwise."""
    permalink = getattr(deps.messenger(digest.channel.workspace.platform), "permalink", None)
    if permalink is None:
        return {}
    links: dict[int, str] = {}
    for line in {line.id: line for line in digest.opened + digest.closed + digest.coming}.values():
        if line.post is not None:
            try:
                url = await permalink(line.post, workspace=digest.channel.workspace)
            except Exception:  # noqa: BLE001 - a missing link must not stop the digest
                log.warning("no permalink for round %s", line.id, exc_info=True)
                url = None
            if url:
                links[line.id] = url
    return links


# --- on request -------------------------------------------------------------------------------------
async def current_digest(deps: Deps, *, person: PersonRef, channel: ChannelRef) -> Message | Notice:
    """`/unmeet digest`: this week so far, in the asking person's language, for them only (no chart)."""
    member = await known_person(deps, person)
    async with deps.db.transaction() as conn:
        context = await store.find_channel(conn, channel)
        workspace_locale = context.locale if context else None
        t = translator(member.locale, workspace_locale, deps.settings.unmeet_default_locale)
        if context is None:
            return Notice(rich(views.empty_week(t)))
        now = deps.clock.now()
        digest = await build_digest(conn, context, week_of(now, context.tz), now)
    if digest.is_empty:
        return Notice(rich(views.empty_week(t)))
    return views.digest_message(t, digest, links=await _links(deps, digest), chart=False)


# --- the schedule -----------------------------------------------------------------------------------
def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def ensure_schedule(deps: Deps) -> None:
    """Make sure this hour's scheduler row exists (called when a worker starts; idempotent)."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await _enqueue_scheduler(conn, _hour(now), now)


async def _enqueue_scheduler(conn: AsyncConnection, hour: datetime, now: datetime) -> None:
    await queue.enqueue(conn, SCHEDULE_KIND, f"{SCHEDULE_KIND}:{hour:%Y-%m-%dT%H}", {}, due_at=hour, now=now)


async def schedule_channel(conn: AsyncConnection, context: ChannelContext, now: datetime, *,
                           revive: bool = False) -> None:
    """Queue the channel's next digest (no-op when it is queued or already sent for that week).
    With `revive` (new settings), a cancelled row for that week is queued again — never a sent one."""
    if not context.schedule.enabled:
        return
    week, when = next_digest(now, context.tz, context.schedule.weekday, context.schedule.at)
    key = digest_key(context.channel_id, week)
    rearm = revive and await store.job_status(conn, key) not in (queue.DONE, queue.PENDING)
    await queue.enqueue(conn, POST_KIND, key, {"channel": context.channel_id, "week": week.first_day.isoformat()},
                        due_at=when, now=now, workspace_id=context.workspace_id, rearm=rearm)


async def schedule_digests(deps: Deps, job: Job) -> None:
    """The hourly scheduler: every active channel gets its next digest row; then the next hour's run."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        for context in await store.active_channels(conn, since=now - timedelta(weeks=ACTIVE_WEEKS)):
            await schedule_channel(conn, context, now)
        await _enqueue_scheduler(conn, _hour(now) + timedelta(hours=1), now)


async def post_digest(deps: Deps, job: Job) -> None:
    """One channel's digest for one week, posted once (a recovered job asks the platform first)."""
    async with deps.db.transaction() as conn:
        context = await store.channel_context(conn, job.payload["channel"])
        if context is None or not context.schedule.enabled:
            return
        week = week_starting(date.fromisoformat(job.payload["week"]), context.tz)
        digest = await build_digest(conn, context, week, deps.clock.now())
    if digest.is_empty:
        log.info("digest %s: nothing happened, nothing posted", job.key)
        return
    messenger = deps.messenger(context.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(context.ref, job.key) is not None:
        return
    t = translator(context.locale, deps.settings.unmeet_default_locale)
    await messenger.post(context.ref, views.digest_message(t, digest, links=await _links(deps, digest)),
                         key=job.key)


DIGEST_JOBS = {SCHEDULE_KIND: schedule_digests, POST_KIND: post_digest}
