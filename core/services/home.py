"""A person's home view (Slack App Home, Teams `home`): open rounds to answer, focus this week against
the goal, recent meeting checks, and the way to the channel settings.

Where the platform keeps a Home the app publishes (Slack), it is published when the person opens it,
and by the `home.refresh` job when a round reaches them, when they answer it and when it closes. The
job runs only for people who have opened their Home at least once (`members.home_opened_at`), so a
round in a channel of 1,000 people doesn't cost 1,000 publishes for views nobody looks at."""

from __future__ import annotations

import logging

from sqlalchemy.exc import NoResultFound

from core.domain.digest import week_of
from core.domain.focus import effective_goal
from core.domain.refs import PersonRef
from core.domain.text import N_
from core.jobs.queue import Job
from core.messages import digest as views
from core.messages.digest import Home, HomeFocus, HomeMeeting, HomeRound
from core.messages.i18n import Translator
from core.messages.model import Message
from core.persistence import digest as store
from core.persistence import focus as focus_store
from core.persistence import llm as llm_store
from core.persistence import repository as repo
from core.ports import Unreachable
from core.services.deps import Deps
from core.services.drivers_seat import home_blocks as seat_blocks
from core.services.one_thing import home_blocks as one_thing_blocks
from core.services.programmes import home_blocks as programme_blocks
from core.services.rounds import HOME_REFRESH, known_person, person_translator

log = logging.getLogger("unmeet.home")

RECENT_CHECKS = 3
# The meeting-check feature's own verdict sentences (its catalogue translates them).
VERDICTS = {"meet": N_("Verdict: meet"), "meet_shorter_smaller": N_("Verdict: meet, but shorter or smaller"),
            "go_async": N_("Verdict: go async")}


async def home(deps: Deps, *, person: PersonRef, opened: bool = False) -> Message:
    """The view; `opened`: the person is opening it now, so their Home is kept fresh from then on."""
    member = await known_person(deps, person)
    t = await person_translator(deps, member)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        if opened:
            await repo.mark_home_opened(conn, member.id, now)
        rounds, total = await store.rounds_to_answer(conn, member.id, now, limit=views.HOME_ROUNDS)
        checks = await store.recent_checks(conn, member.id, limit=RECENT_CHECKS)
        week = week_of(now, member.tz)
        minutes = await store.person_focus_minutes(conn, member.id, week, now)
        personal, workspace = await focus_store.get_goals(conn, member.workspace_id, member.id)
        shared = await llm_store.open_rounds_by(conn, member.id, now, limit=views.HOME_SHARED)
        one_thing = await one_thing_blocks(conn, member, t)
        drivers_seat = await seat_blocks(conn, member, t)
        programme = await programme_blocks(conn, member, t, now)
    return views.home_view(t, Home(
        rounds=tuple(HomeRound(r.round_id, r.title, r.deadline_at) for r in rounds), rounds_total=total,
        tz=member.tz, focus=HomeFocus(minutes / 60, effective_goal(personal, workspace) / 60),
        meetings=tuple(HomeMeeting(agenda, _verdict(t, verdict, converted)) for agenda, verdict, converted in checks),
        shared=tuple(HomeRound(*row) for row in shared), one_thing=one_thing,
        drivers_seat=drivers_seat, programme=programme))


def _verdict(t: Translator, verdict: str, converted: bool) -> str:
    if converted:
        return t.gettext("became an async round")
    return t.gettext(VERDICTS.get(verdict, verdict))


async def refresh_home(deps: Deps, job: Job) -> None:
    """Publish the person's Home again, on a platform that keeps one (the messenger's `publish_home`)."""
    try:
        async with deps.db.transaction() as conn:
            member = await repo.get_member(conn, job.payload["member"])
    except NoResultFound:  # erased after this job was queued: nobody to show it to
        return
    publish = getattr(deps.messenger(member.ref.workspace.platform), "publish_home", None)
    if publish is None or member.deleted:
        return
    try:
        await publish(member.ref, await home(deps, person=member.ref))
    except Unreachable as gone:  # left the workspace, say: nobody to show it to
        log.info("home of %s not refreshed: %s", member.ref.id, gone)


HOME_JOBS = {HOME_REFRESH: refresh_home}
