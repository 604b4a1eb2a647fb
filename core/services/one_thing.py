"""The One Thing: record it (replacing the current one), show it and its history, share it with the
team's digest or not, and the "Still doing it?" check a week later.

Every save goes through `save_one_thing` — the command, the form, a re-record — so whatever must
happen when a One Thing is saved is added there once.

The check: `onething-check:{id}` is queued when a One Thing is saved, due a week later in the person's
working hours (core.domain.one_thing.check_due). A One Thing replaced before its check is never asked
about: its job finds it replaced and sends nothing; the new one has its own check a week after *it*
was recorded. Right before sending, the job passes the nudge gate (no DM during focus time) and checks
the person's working hours again (their zone may have changed).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain import one_thing as rules
from core.domain.refs import PersonRef
from core.domain.text import N_
from core.jobs import queue
from core.jobs.queue import Job
from core.jobs.worker import Defer
from core.messages import one_thing as views
from core.messages.i18n import Translator
from core.messages.model import Block, Form, Message
from core.persistence import one_thing as store
from core.persistence import repository as repo
from core.persistence.one_thing import OneThingRow
from core.persistence.repository import MemberRow
from core.ports import Unreachable
from core.services.deps import Deps
from core.services import completions
from core.services.nudges import hold_nudge
from core.services.outcomes import Done, Invalid
from core.services.rounds import HOME_REFRESH, errors_text, known_person, person_translator

log = logging.getLogger("unmeet.one_thing")

CHECK_KIND = "onething.check"

S_GONE = N_("That One Thing is no longer stored, so there is nothing to answer. Record a new one any time.")
S_REPLACED = N_("You have recorded a newer One Thing since, so this check is about one you replaced. Nothing was "
              "saved; in a week I'll ask about the new one.")


def check_key(one_thing_id: int) -> str:
    return f"onething-check:{one_thing_id}"


async def _who(deps: Deps, person: PersonRef) -> tuple[MemberRow, Translator]:
    member = await known_person(deps, person)
    return member, await person_translator(deps, member)


async def _refresh_home(conn: AsyncConnection, member: MemberRow, event: str, now) -> None:
    """The person's Home shows their One Thing: publish it again where the platform keeps one."""
    if member.home_opened_at is not None:
        await queue.enqueue(conn, HOME_REFRESH, f"home:onething:{member.id}:{event}:{now.isoformat()}",
                            {"member": member.id}, due_at=now, now=now, workspace_id=member.workspace_id)


# --- commands ------------------------------------------------------------------------------------------
async def one_thing_command(deps: Deps, *, person: PersonRef, text: str) -> Message | Form:
    """`/one-thing …` (Teams: `one thing …` / `één ding …`): a reply, or the form (with what was typed
    and why it can't be saved)."""
    command = rules.parse_command(text)
    if isinstance(command, rules.Record):
        result = await save_one_thing(deps, person=person, text=command.text, share=command.share or None)
        return result.form if isinstance(result, Invalid) else result.message
    if isinstance(command, rules.SetShare):
        return await set_sharing(deps, person=person, shared=command.shared)
    return await overview(deps, person=person)


async def overview(deps: Deps, *, person: PersonRef) -> Message:
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        current = await store.current(conn, member.id)
        history = await store.history(conn, member.id, limit=views.VIEW_HISTORY)
    return views.overview(t, current, history, member.tz)


async def open_form(deps: Deps, *, person: PersonRef) -> Form:
    """The empty form (the Home's button, "Record a new one")."""
    _, t = await _who(deps, person)
    return views.form(t)


async def submit_form(deps: Deps, *, person: PersonRef, text: str, share: str | None) -> Invalid | Done:
    return await save_one_thing(deps, person=person, text=text, share=share == views.SHARED)


async def save_one_thing(deps: Deps, *, person: PersonRef, text: str, share: bool | None) -> Invalid | Done:
    """Save a One Thing: it becomes the person's current one (the one before goes to their history)
    and its check is queued for a week later. `share`: True shares it in the team's digest, False keeps
    it private, None (the command without `#share`) keeps a re-recorded one as it was, else private.
    The same text as the current one again (a second submit, a retyped command) adds no row."""
    member, t = await _who(deps, person)
    if error := rules.check_text(text):
        return Invalid(views.form(t, value=text, shared=bool(share), errors=errors_text(t, {"text": error})))
    text = rules.clean(text)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await store.hold_person(conn, member.id)
        current = await store.current(conn, member.id)
        if current is not None and current.text == text:
            if share is None or share == current.shared:
                return Done(views.unchanged(t, current))
            await store.set_shared(conn, current.id, share)
            await _refresh_home(conn, member, "shared", now)
            return Done(views.sharing_changed(t, await store.get(conn, current.id)))
        one_thing_id = await store.replace_current(conn, workspace_id=member.workspace_id, member_id=member.id,
                                                   text=text, shared=bool(share), now=now)
        await completions.announce(conn, workspace_id=member.workspace_id, member_id=member.id,
                                   kind=completions.ONE_THING, at=now, ref=one_thing_id)
        await queue.enqueue(conn, CHECK_KIND, check_key(one_thing_id), {"one_thing": one_thing_id, "member": member.id},
                            due_at=rules.check_due(now, member.tz), now=now, workspace_id=member.workspace_id)
        await _refresh_home(conn, member, "saved", now)
        saved = await store.get(conn, one_thing_id)
    deps.wake_worker()
    return Done(views.recorded(t, saved, replaced=current))


async def set_sharing(deps: Deps, *, person: PersonRef, shared: bool) -> Message:
    member, t = await _who(deps, person)
    async with deps.db.transaction() as conn:
        current = await store.current(conn, member.id)
        if current is None:
            return views.nothing_yet(t)
        if current.shared != shared:
            await store.set_shared(conn, current.id, shared)
            await _refresh_home(conn, member, "shared", deps.clock.now())
        current = await store.get(conn, current.id)
    return views.sharing_changed(t, current)


async def home_blocks(conn: AsyncConnection, member: MemberRow, t: Translator) -> tuple[Block, ...]:
    """The Home's One Thing section (core.services.home adds it)."""
    current = await store.current(conn, member.id)
    history = await store.history(conn, member.id, limit=views.HOME_HISTORY)
    return views.home_blocks(t, current, history, member.tz)


# --- the check -----------------------------------------------------------------------------------------
def parse_check_value(value: str) -> tuple[int | None, str | None]:
    """A check button's value `{id}:{answer}` -> (id, answer); None for what doesn't parse."""
    raw_id, _, answer = (value or "").partition(":")
    one_thing_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() and 0 < int(raw_id) < 2 ** 31 else None
    return one_thing_id, (answer if answer in set(rules.Answer) else None)


async def _own(conn: AsyncConnection, member: MemberRow, one_thing_id: int | None) -> OneThingRow | None:
    row = None if one_thing_id is None else await store.get(conn, one_thing_id)
    return row if row is not None and row.member_id == member.id else None


async def check_form(deps: Deps, *, person: PersonRef, value: str) -> Form | Message:
    """A check button: the form with that answer chosen and room for a note; a sentence when the One
    Thing is gone or replaced."""
    member, t = await _who(deps, person)
    one_thing_id, answer = parse_check_value(value)
    async with deps.db.transaction() as conn:
        row = await _own(conn, member, one_thing_id)
    if row is None:
        return views.text(t.gettext(S_GONE))
    if not row.current:
        return views.text(t.gettext(S_REPLACED))
    return views.check_form(t, row, one_thing_id=row.id, answer=answer or row.check_answer,
                            note=row.check_note or "")


async def answer_check(deps: Deps, *, person: PersonRef, one_thing_id: int | None, answer: str | None,
                       note: str) -> Invalid | Done:
    """Save the answer to "Still doing it?" on the One Thing's row (answering again changes it). A One
    Thing gone or replaced meanwhile: the form comes back with the note and a sentence saying why."""
    member, t = await _who(deps, person)
    note = note or ""
    errors = rules.check_answer(answer, note)
    async with deps.db.transaction() as conn:
        row = await _own(conn, member, one_thing_id)
        stale = S_GONE if row is None else S_REPLACED if not row.current else None
        if stale or errors:
            shown = errors_text(t, errors)
            if stale:
                shown["answer"] = t.gettext(stale)
            return Invalid(views.check_form(t, row, one_thing_id=one_thing_id or 0, answer=answer, note=note,
                                            errors=shown))
        now = deps.clock.now()
        await store.record_check(conn, row.id, answer=answer, note=rules.clean(note), now=now)
        await _refresh_home(conn, member, "checked", now)
    return Done(views.check_saved(t, answer, again=row.checked_at is not None))


async def check_job(deps: Deps, job: Job) -> None:
    """A week later: "Still doing it?" — only about the person's current One Thing, only inside their
    working hours and never during their focus time (deferred, not dropped)."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        row = await store.get(conn, job.payload["one_thing"])
        if row is None or not row.current or row.checked_at is not None:
            return  # erased, replaced (its successor has its own check), or answered already
        try:
            member = await repo.get_member(conn, row.member_id)
        except NoResultFound:
            return
        if member.deleted or member.is_bot or member.unreachable:
            return
        moment = rules.may_ask_now(now, member.tz)
        if moment > now:
            raise Defer(moment)
        await hold_nudge(conn, member_id=member.id, now=now)
    t = await person_translator(deps, member)
    messenger = deps.messenger(member.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(member.ref, job.key) is not None:
        return
    try:
        await messenger.send_dm(member.ref, views.check_dm(t, row), key=job.key)
    except Unreachable as gone:
        log.info("one thing check for %s not sent: %s", member.ref.id, gone)
        async with deps.db.transaction() as conn:
            await repo.mark_unreachable(conn, member.id, str(gone) or "unreachable")


ONE_THING_JOBS = {CHECK_KIND: check_job}
