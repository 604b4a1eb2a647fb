"""Focus time: start, stop, the week view, planning, telling the team, and the personal connection
that lets a platform show the focus (Slack: status and do-not-disturb with the person's own token).

A second `/focus` while one runs REPLACES it: the running session ends now (its minutes count) and the
new one starts with the new length, topic and category. People type a length "from now", so replacing
does what the words say; the reply says so.

Side effects on the platform are jobs: `focus.begin:{session}` sets the status, `focus.end:{session}`
(due at the planned end, moved to now by `/focus stop`) restores it and lets held-back reminders go,
`focus.block:{block}` asks at a planned block's start, `focus.note:{session}:{channel}` posts the
"Tell my team" note (once, however often it is asked for or retried).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from core.domain import focus as rules
from core.domain.focus import Category, PlanRow, Progress, Start
from core.domain.refs import ChannelRef, PersonRef, WorkspaceRef
from core.jobs import queue
from core.jobs.queue import Job
from core.jobs.worker import Defer, Permanent
from core.messages import focus as views
from core.messages.i18n import Translator, translator
from core.messages.model import Form, Message
from core.persistence import focus as store
from core.persistence.agreements import team_focus_goal
from core.persistence.digest import job_status
from core.persistence import repository as repo
from core.persistence.focus import SessionRow
from core.persistence.repository import MemberRow
from core.services.deps import Deps
from core.services import completions, tokens
from core.services.outcomes import Done, Invalid
from core.services.tokens import NoSecretKey, decrypt_token, encrypt_token  # noqa: F401 - their home was here
from core.services.nudges import NUDGE_KINDS
from core.services.rounds import errors_text, known_person, person_translator

log = logging.getLogger("unmeet.focus")

STATE_LIFETIME = timedelta(minutes=10)


class StatusSetter(Protocol):
    """A platform that can show a person's focus with their own token (implemented in slack_app)."""

    def authorize_url(self, state: str) -> str:
        """Where the person grants the app their status and do-not-disturb, carrying `state`."""
        ...

    async def set_focus(self, token: str, *, text: str, emoji: str, until: datetime, minutes: int) -> None:
        """Status `text`/`emoji` expiring at `until`, and notifications paused for `minutes`."""
        ...

    async def clear_focus(self, token: str) -> None: ...

    async def refresh(self, refresh_token: str) -> tokens.Grant:
        """A new token for a rotating one (only called when a refresh token is stored)."""
        ...


class TokenRevoked(Exception):
    """The platform no longer accepts the person's token: forget it."""


class TokenExpired(TokenRevoked):
    """The platform says the token expired: renewed once when it has a refresh token, else forgotten."""


# --- tokens at rest (encrypted, renewed when the platform rotates them: core.services.tokens) ------------
def _refresh(setter: StatusSetter) -> tokens.Refresh:
    return lambda refresh_token: setter.refresh(refresh_token)


async def _with_token(deps: Deps, member_id: int, setter: StatusSetter, call: Callable[[str], Awaitable[None]]) -> bool:
    """`call(token)` with the person's token, renewed first when it is about to expire; when the platform
    says it expired, renewed and called once more. A token the platform refuses (and can't renew) is
    forgotten. False when there was no token (any more)."""
    try:
        token = await tokens.current(deps, tokens.PERSONAL, member_id, _refresh(setter))
        if token is None:
            return False
        try:
            await call(token)
        except TokenRevoked as error:
            renewed = await tokens.current(deps, tokens.PERSONAL, member_id, _refresh(setter), refused=token,
                                           expired=isinstance(error, TokenExpired))
            if renewed is None or renewed == token:
                raise
            await call(renewed)
    except (TokenRevoked, tokens.RefreshRefused):
        await _drop_token(deps, member_id)
        return False
    return True


async def _token(deps: Deps, member_id: int) -> str | None:
    """The person's token as stored (is there one that can be decrypted?), without renewing it."""
    async with deps.db.transaction() as conn:
        encrypted = await store.get_token(conn, member_id)
    return None if encrypted is None else decrypt_token(deps.settings, encrypted)


async def _drop_token(deps: Deps, member_id: int) -> None:
    async with deps.db.transaction() as conn:
        await store.delete_token(conn, member_id)


# --- helpers -------------------------------------------------------------------------------------------
async def _who(deps: Deps, person: PersonRef) -> tuple[MemberRow, Translator]:
    member = await known_person(deps, person)
    return member, await person_translator(deps, member)


async def _member_translator(deps: Deps, member_id: int) -> tuple[MemberRow, Translator]:
    async with deps.db.transaction() as conn:
        member = await repo.get_member(conn, member_id)
        workspace = await repo.get_workspace(conn, member.workspace_id)
    return member, translator(member.locale, workspace.locale, deps.settings.unmeet_default_locale)


def _setter(deps: Deps, platform: str) -> StatusSetter | None:
    return deps.status_setters.get(platform)


async def _connect_url(deps: Deps, member: MemberRow) -> str | None:
    """A fresh authorisation link for a person without a token, on a platform that can show focus."""
    setter = _setter(deps, member.ref.workspace.platform)
    if setter is None or not (deps.settings.unmeet_secret_key or deps.settings.slack_signing_secret):
        return None
    state = secrets.token_urlsafe(32)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await store.save_state(conn, state, member.id, now + STATE_LIFETIME)
    return setter.authorize_url(state)


async def _progress(deps: Deps, conn, member: MemberRow, now: datetime) -> Progress:
    start, end = rules.week_bounds(now, member.tz)
    by_category: dict[Category, int] = {}
    for session in await store.sessions_between(conn, member.id, start, end):
        minutes = rules.overlap_minutes(session.started_at, min(session.stopped_at, now), start, end)
        category = Category(session.category)
        by_category[category] = by_category.get(category, 0) + minutes
    personal, workspace = await store.get_goals(conn, member.workspace_id, member.id)
    team = await team_focus_goal(conn, member.id)  # the weekly focus goal their team agreed on
    return Progress(rules.effective_goal(personal, team or workspace), by_category)


# --- commands ------------------------------------------------------------------------------------------
async def focus_command(deps: Deps, *, person: PersonRef, text: str) -> Message | Form:
    """`/focus …` (Slack) or `focus …` (Teams): a reply to show, or a form to open."""
    command = rules.parse_command(text)
    if isinstance(command, rules.Start):
        return await start_focus(deps, person=person, start=command)
    if isinstance(command, rules.Stop):
        return await stop_focus(deps, person=person)
    if isinstance(command, rules.Plan):
        return await plan_form(deps, person=person)
    if isinstance(command, rules.Connect):
        return await connect(deps, person=person)
    member, t = await _who(deps, person)
    if isinstance(command, rules.SetGoal):
        async with deps.db.transaction() as conn:
            await store.set_goal(conn, member.workspace_id, member.id, command.minutes)
        return views.text(t.gettext("Your weekly focus goal is now {minutes} minutes.", minutes=command.minutes))
    if isinstance(command, rules.Unclear):
        return views.text(t.gettext(command.error.message, **command.error.params))
    return await week_view(deps, person=person)


async def start_focus(deps: Deps, *, person: PersonRef, start: Start, block_id: int | None = None) -> Message:
    """Record a session (replacing a running one), queue its status and its end; say what happens."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    setter = _setter(deps, person.workspace.platform)
    async with deps.db.transaction() as conn:
        if block_id is not None and not await store.mark_block_started(conn, block_id):
            return views.text(t.gettext("This focus block was already started or replaced."))
        running = await store.active_session(conn, member.id, now)
        if running is not None:
            await store.end_session(conn, running.id, at=now, by="replaced")
        session_id = await store.insert_session(
            conn, workspace_id=member.workspace_id, member_id=member.id, category=start.category,
            topic=start.topic, started_at=now, ends_at=now + timedelta(minutes=start.minutes))
        session = await store.get_session(conn, session_id)
        has_token = await store.get_token(conn, member.id) is not None
        if setter is not None and has_token:
            await queue.enqueue(conn, "focus.begin", f"focus.begin:{session_id}", {"session": session_id},
                                due_at=now, now=now, workspace_id=member.workspace_id)
        await queue.enqueue(conn, "focus.end", f"focus.end:{session_id}", {"session": session_id},
                            due_at=session.ends_at, now=now, workspace_id=member.workspace_id)
    deps.wake_worker()
    connect_url = None
    if setter is None:
        shown = "unsupported"
    elif has_token:
        shown = "status"
    else:
        shown, connect_url = "connect", await _connect_url(deps, member)
    return views.started(t, session, member.tz, shown=shown, replaced=running, connect_url=connect_url)


async def stop_focus(deps: Deps, *, person: PersonRef) -> Message:
    """End the running session now; its end job runs at once and restores the status."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        running = await store.active_session(conn, member.id, now)
        if running is None:
            return views.text(t.gettext("You're not in a focus session. Start one with `/focus 90`."))
        await store.end_session(conn, running.id, at=now, by="stop")
        await queue.reschedule(conn, f"focus.end:{running.id}", now)
        progress = await _progress(deps, conn, member, now)
    deps.wake_worker()
    minutes = int((now - running.started_at).total_seconds() // 60)
    return views.stopped(t, running, minutes, progress)


async def week_view(deps: Deps, *, person: PersonRef) -> Message:
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        progress = await _progress(deps, conn, member, now)
        running = await store.active_session(conn, member.id, now)
        blocks = await store.future_blocks(conn, member.id, now)
        has_token = await store.get_token(conn, member.id) is not None
    connect_url = None if has_token else await _connect_url(deps, member)
    return views.week(t, progress, running=running, next_block=blocks[0] if blocks else None, tz=member.tz,
                      connect_url=connect_url)


async def connect(deps: Deps, *, person: PersonRef) -> Message:
    member, t = await _who(deps, person)
    if _setter(deps, person.workspace.platform) is None:
        return views.text(t.gettext("This platform doesn't let apps set your status, so focus sessions are "
                                    "recorded and can be announced to your team instead."))
    if await _token(deps, member.id) is not None:
        return views.text(t.gettext("You're connected: focus sessions set your status and pause notifications."))
    url = await _connect_url(deps, member)
    if url is None:
        return views.text(t.gettext("Connecting isn't available here: the app has no secret key to protect "
                                    "your token. Ask whoever runs it to set UNMEET_SECRET_KEY."))
    return views.connect_needed(t, url)


# --- planning ------------------------------------------------------------------------------------------
def _days(now: datetime, tz: str | None) -> list:
    today = now.astimezone(rules.zone(tz)).date()
    return [today + timedelta(days=n) for n in range(7)]


async def plan_form(deps: Deps, *, person: PersonRef) -> Form:
    """The plan form with the blocks already planned."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        blocks = await store.future_blocks(conn, member.id, now)
    zi = rules.zone(member.tz)
    rows = [(b.starts_at.astimezone(zi).date().isoformat(), b.starts_at.astimezone(zi).strftime("%H:%M"),
             str(b.minutes)) for b in blocks[:rules.PLAN_ROWS]]
    return views.plan_form(t, _days(now, member.tz), rows)


async def save_plan(deps: Deps, *, person: PersonRef, rows: tuple[PlanRow, ...]) -> Invalid | Done:
    """Replace the person's future blocks with these; each block's start is a job that asks."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    clean = tuple(PlanRow("" if r.day in ("", views.NO_BLOCK) else r.day, r.start, r.length) for r in rows)
    days = _days(now, member.tz)
    if any(r.day and r.day not in {d.isoformat() for d in days} for r in clean):
        return Done(views.text(t.gettext("That plan form is out of date. Run `/focus plan` again.")))
    blocks, errors = rules.validate_plan(clean, tz=member.tz, now=now)
    if errors:
        return Invalid(views.plan_form(t, days, [(r.day or views.NO_BLOCK, r.start, r.length) for r in rows],
                                       errors_text(t, errors)))
    async with deps.db.transaction() as conn:
        await store.cancel_blocks(conn, [b.id for b in await store.future_blocks(conn, member.id, now)])
        for block in blocks:
            block_id = await store.insert_block(conn, workspace_id=member.workspace_id, member_id=member.id,
                                                starts_at=block.starts_at, minutes=block.minutes, created_at=now)
            await queue.enqueue(conn, "focus.block", f"focus.block:{block_id}", {"block": block_id},
                                due_at=block.starts_at, now=now, workspace_id=member.workspace_id)
        saved = await store.future_blocks(conn, member.id, now)
        if saved:
            await completions.announce(conn, workspace_id=member.workspace_id, member_id=member.id,
                                       kind=completions.FOCUS_PLAN, at=now, ref=now.isoformat())
    deps.wake_worker()
    return Done(views.plan_saved(t, saved, member.tz))


async def start_block(deps: Deps, *, person: PersonRef, block_id: int) -> Message:
    """The one-click start from a block's prompt."""
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        block = await store.get_block(conn, block_id)
    if block is None or block.member_id != member.id:
        return views.text(t.gettext("This focus block isn't yours to start."))
    if block.status != store.PLANNED:
        return views.text(t.gettext("This focus block was already started or replaced."))
    return await start_focus(deps, person=person, start=Start(block.minutes), block_id=block_id)


# --- telling the team ----------------------------------------------------------------------------------
async def _own_running(deps: Deps, member: MemberRow, session_id: int) -> SessionRow | None:
    async with deps.db.transaction() as conn:
        session = await store.get_session(conn, session_id)
    if session is None or session.member_id != member.id or session.ended_at is not None:
        return None
    return session if session.ends_at > deps.clock.now() else None


async def tell_team_form(deps: Deps, *, person: PersonRef, session_id: int) -> Form | Message:
    member, t = await _who(deps, person)
    if await _own_running(deps, member, session_id) is None:
        return views.text(t.gettext("That focus session is over, so there is nothing to announce."))
    return views.tell_team_form(t, session_id)


async def tell_team(deps: Deps, *, person: PersonRef, session_id: int, channel_id: str) -> Message:
    """Queue the note for the chosen channel (a job, so a platform hiccup delays it instead of losing
    it). Asking again for the same channel posts nothing more — unless the earlier note gave up."""
    member, t = await _who(deps, person)
    session = await _own_running(deps, member, session_id)
    if session is None:
        return views.text(t.gettext("That focus session is over, so there is nothing to announce."))
    now = deps.clock.now()
    key = f"focus.note:{session_id}:{channel_id}"
    async with deps.db.transaction() as conn:
        gave_up = await job_status(conn, key) == queue.DEAD
        await queue.enqueue(conn, "focus.note", key, {"session": session_id, "channel": channel_id}, due_at=now,
                            now=now, workspace_id=member.workspace_id, rearm=gave_up)
    deps.wake_worker()
    return views.text(t.gettext("I'll post a note in that channel, so your team knows."))


# --- connecting (OAuth) --------------------------------------------------------------------------------
async def claim_connect_state(deps: Deps, state: str) -> PersonRef | None:
    """Use an OAuth `state` once; the person it was made for, or None (unknown, used or expired)."""
    if not state:
        return None
    async with deps.db.transaction() as conn:
        member_id = await store.take_state(conn, state, deps.clock.now())
        if member_id is None:
            return None
        return (await repo.get_member(conn, member_id)).ref


async def save_user_token(deps: Deps, *, person: PersonRef, token: str, scopes: str,
                          refresh_token: str | None = None, expires_in: float | None = None) -> str:
    """Store a person's token encrypted (with token rotation, its refresh token too, and when it
    expires); returns the sentence to show them."""
    member, t = await _who(deps, person)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await store.save_token(conn, member.id, encrypt_token(deps.settings, token), scopes, now,
                               refresh_encrypted=None if refresh_token is None
                               else encrypt_token(deps.settings, refresh_token),
                               expires_at=tokens.expires_at(now, expires_in))
    return t.gettext("Connected. From now on focus sessions set your status and pause notifications. "
                     "You can close this page.")


async def connect_failed_text(deps: Deps, person: PersonRef | None) -> str:
    t = translator(deps.settings.unmeet_default_locale)
    if person is not None:
        _, t = await _who(deps, person)
    return t.gettext("This link has expired or was already used. Run `/focus connect` in Slack for a new one.")


async def drop_user_tokens(deps: Deps, *, workspace: WorkspaceRef, user_ids: list[str]) -> int:
    """The platform revoked these people's tokens: forget them (and nobody else's)."""
    async with deps.db.transaction() as conn:
        return await store.delete_tokens_of(conn, workspace, user_ids)


# --- goals and totals (the digest and its settings screen use these) ------------------------------------
async def set_workspace_goal(deps: Deps, *, workspace: WorkspaceRef, minutes: int) -> None:
    """The team's weekly focus goal in minutes (a person's own goal, `/focus goal N`, still wins)."""
    if not 0 <= minutes <= rules.MAX_WEEKLY_GOAL:
        raise ValueError(f"weekly goal must be between 0 and {rules.MAX_WEEKLY_GOAL} minutes")
    async with deps.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, workspace, now=deps.clock.now())
        await store.set_goal(conn, workspace_id, None, minutes)


async def workspace_goal(deps: Deps, *, workspace: WorkspaceRef) -> int:
    async with deps.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, workspace, now=deps.clock.now())
        _, goal = await store.get_goals(conn, workspace_id, None)
    return rules.effective_goal(None, goal)


# --- jobs ----------------------------------------------------------------------------------------------
async def begin_job(deps: Deps, job: Job) -> None:
    """Set the status and pause notifications until the session's end."""
    async with deps.db.transaction() as conn:
        session = await store.get_session(conn, job.payload["session"])
    now = deps.clock.now()
    if session is None or session.ended_at is not None or session.ends_at <= now:
        return
    member, t = await _member_translator(deps, session.member_id)
    setter = _setter(deps, member.ref.workspace.platform)
    if setter is None:
        return
    text = views.status_text(t, session.ends_at, member.tz)
    minutes = math.ceil((session.ends_at - now).total_seconds() / 60)

    async def set_focus(token: str) -> None:
        await setter.set_focus(token, text=text, emoji=views.STATUS_EMOJI, until=session.ends_at, minutes=minutes)

    if not await _with_token(deps, member.id, setter, set_focus):
        return
    async with deps.db.transaction() as conn:
        await store.set_status_set(conn, session.id, True)


async def end_job(deps: Deps, job: Job) -> None:
    """At the planned end (or at once after `/focus stop`): end the session, restore the status, and
    let reminders held back during it go."""
    async with deps.db.transaction() as conn:
        session = await store.get_session(conn, job.payload["session"])
    now = deps.clock.now()
    if session is None or session.ended_by == "replaced":  # the session that replaced it owns the status
        return
    if session.ended_at is None and now < session.ends_at:
        raise Defer(session.ends_at)
    if session.ended_at is None:
        async with deps.db.transaction() as conn:
            await store.end_session(conn, session.id, at=session.ends_at, by="auto")
    if session.status_set:
        member, _ = await _member_translator(deps, session.member_id)
        setter = _setter(deps, member.ref.workspace.platform)
        if setter is not None:
            await _with_token(deps, member.id, setter, setter.clear_focus)
        async with deps.db.transaction() as conn:
            await store.set_status_set(conn, session.id, False)
    async with deps.db.transaction() as conn:
        released = await store.release_held_reminders(conn, session.workspace_id, session.member_id,
                                                      held_until=session.ends_at, now=now, kinds=NUDGE_KINDS)
    if released:
        deps.wake_worker()


async def note_job(deps: Deps, job: Job) -> None:
    """The "Tell my team" note, in the focusing person's language, while the session runs. When it
    can't be posted for good, the person hears so, with the button to pick another channel."""
    async with deps.db.transaction() as conn:
        session = await store.get_session(conn, job.payload["session"])
    if session is None or session.ended_at is not None or session.ends_at <= deps.clock.now():
        return  # over before the note could go: announcing it now would be wrong
    member, t = await _member_translator(deps, session.member_id)
    channel = ChannelRef(member.ref.workspace, job.payload["channel"])
    messenger = deps.messenger(channel.workspace.platform)
    if job.recovered and await messenger.find_sent(channel, job.key) is not None:
        return
    try:
        await messenger.post(channel, views.team_note(t, session, member.name or member.ref.id, member.tz),
                             key=job.key)
    except Exception as error:
        if isinstance(error, Permanent) or job.attempts >= deps.settings.job_max_attempts:  # the job dies now
            log.warning("could not post a focus note in %s: %s", channel.id, error)
            try:
                await messenger.send_dm(member.ref, views.note_failed(t, session.id))
            except Exception:  # noqa: BLE001 - the note's own error is the one the job keeps
                log.warning("could not tell %s either", member.ref.id, exc_info=True)
        raise


async def block_job(deps: Deps, job: Job) -> None:
    """At a planned block's start: ask the person whether to start it (unless they already focus)."""
    async with deps.db.transaction() as conn:
        block = await store.get_block(conn, job.payload["block"])
        if block is None or block.status != store.PLANNED:
            return
        now = deps.clock.now()
        if now < block.starts_at:
            raise Defer(block.starts_at)
        if await store.active_session(conn, block.member_id, now) is not None:
            return
    member, t = await _member_translator(deps, block.member_id)
    messenger = deps.messenger(member.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(member.ref, job.key) is not None:
        return
    await messenger.send_dm(member.ref, views.block_prompt(t, block), key=job.key)


FOCUS_JOBS = {
    "focus.begin": begin_job,
    "focus.end": end_job,
    "focus.note": note_job,
    "focus.block": block_job,
}
