"""Reflection rounds: share, answer, remind, close.

The functions called by adapters (`share_form`, `share_insight`, `confirm_share`, `answer_form`,
`submit_answer`, `record_answer`) return neutral forms and notices. Everything that sends a message is a job
(see `ROUND_JOBS`), queued in the same transaction as the change that calls for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain import rounds as rules
from core.domain.refs import ChannelRef, PersonRef, Posted, WorkspaceRef
from core.domain.rounds import FieldError, RoundStatus, ShareInput, ShareMode
from core.domain.summary import AnswerText, SummaryInput, SummaryResult
from core.jobs import queue
from core.jobs.queue import Job
from core.jobs.worker import Defer, Permanent
from core.messages import rounds as views
from core.messages.i18n import Translator, translator
from core.messages.llm import summarise_now_button, with_draft_button
from core.messages.model import Form, Notice, rich
from core.domain.text import N_
from core.persistence import repository as repo
from core.persistence.agreements import rules_for_external_channel
from core.persistence.repository import AnswerRow, MemberRow, RoundRow
from core.ports import Person, RetryLater, Unreachable
from core.services.deps import Deps
from core.services.outcomes import Invalid
from core.services import completions
from core.services.nudges import hold_nudge

log = logging.getLogger("unmeet.rounds")

MEMBER_INFO_MAX_AGE = timedelta(days=7)
HOME_REFRESH = "home.refresh"  # publish a person's Home again (core.services.home runs it)


@dataclass(frozen=True)
class Confirm:
    """The author must confirm before many people get a DM."""

    form: Form


@dataclass(frozen=True)
class Done:
    notice: Notice | None = None


def errors_text(t: Translator, errors: dict[str, FieldError]) -> dict[str, str]:
    return {field: t.gettext(error.message, **error.params) for field, error in errors.items()}


# --- people ---------------------------------------------------------------------------------------
async def known_person(deps: Deps, person: PersonRef, *, refresh: bool = True) -> MemberRow:
    """The stored person, refreshed from the platform's directory when unknown or older than a week."""
    async with deps.db.transaction() as conn:
        member = await repo.find_member(conn, person)
        fresh = member is not None and member.name
    if refresh and not fresh:
        try:
            info: Person | None = await deps.messenger(person.workspace.platform).person(person)
        except Exception:  # noqa: BLE001 - the directory being slow must not stop the person
            log.warning("could not look up %s", person.id, exc_info=True)
            info = None
        async with deps.db.transaction() as conn:
            workspace_id = await repo.ensure_workspace(conn, person.workspace, now=deps.clock.now())
            if info is not None:
                await repo.ensure_member(conn, workspace_id, person.id, now=deps.clock.now(), name=info.name,
                                         locale=info.locale, tz=info.tz, is_bot=info.is_bot, deleted=info.deleted)
            else:
                await repo.ensure_member(conn, workspace_id, person.id)
            member = await repo.find_member(conn, person)
    elif member is None:
        async with deps.db.transaction() as conn:
            workspace_id = await repo.ensure_workspace(conn, person.workspace, now=deps.clock.now())
            await repo.ensure_member(conn, workspace_id, person.id)
            member = await repo.find_member(conn, person)
    assert member is not None
    return member


async def person_translator(deps: Deps, member: MemberRow) -> Translator:
    """The person's language, then the workspace's, then the configured default."""
    return translator(member.locale, member.workspace_locale, deps.settings.unmeet_default_locale)


# --- sharing --------------------------------------------------------------------------------------
async def share_form(deps: Deps, *, author: PersonRef, channel_id: str, prefill: ShareInput | None = None) -> Form:
    """The empty share form in the author's language, with the programme's default questions."""
    member = await known_person(deps, author)
    t = await person_translator(deps, member)
    today = deps.clock.now().astimezone(rules.zone(member.tz)).date()
    data = prefill or ShareInput(title="", questions=rules.DEFAULT_QUESTIONS[t.language])
    questions = tuple(q or d for q, d in zip(data.questions, rules.DEFAULT_QUESTIONS[t.language]))
    team = await _team_rules(deps, member, data.channel_id or channel_id)
    form = views.share_form(t, channel_id=data.channel_id or channel_id, deadline=data.deadline or today + timedelta(days=7),
                            questions=questions, title=data.title, link=data.link, text=data.text,
                            share_mode=data.share_mode or ShareMode.THREAD, response_hours=team.response_hours)
    return with_draft_button(form, t) if await llm_on(deps, member.workspace_id) else form


async def llm_on(deps: Deps, workspace_id: int) -> bool:
    """Whether to offer the model here: an endpoint is configured and the workspace didn't switch it
    off. A spent budget still offers it; the draft then says why it is a plain one."""
    llm = getattr(deps.summariser, "llm", None)  # only the LLM summariser has the model's gate
    return llm is not None and (await llm.access(workspace_id)).enabled


E_DEADLINE_RESPONSE = N_("This team agreed to answer within {hours} hours: pick a deadline at least that far away.")


async def _team_rules(deps: Deps, member: MemberRow, channel_external_id: str | None):
    """The typed rules of the channel's published agreement (core.persistence.agreements)."""
    async with deps.db.transaction() as conn:
        return await rules_for_external_channel(conn, member.workspace_id, (channel_external_id or "").strip())


def _shared(t: Translator, round_id: int) -> Notice:
    """The author's confirmation, with their way to a summary of the answers so far."""
    return Notice(rich(t.gettext("Shared. Everyone in the channel gets the questions in a direct message.")),
                  actions=(summarise_now_button(t, round_id),))


async def share_insight(deps: Deps, *, author: PersonRef, data: ShareInput) -> Invalid | Confirm | Done:
    """Validate the share form and start the round, or ask the author to confirm a large audience."""
    member = await known_person(deps, author)
    t = await person_translator(deps, member)
    today = deps.clock.now().astimezone(rules.zone(member.tz)).date()
    errors = rules.validate_share(data, today=today)
    team = await _team_rules(deps, member, data.channel_id)
    if "deadline" not in errors and data.deadline is not None and team.response_hours and (
            rules.deadline_instant(data.deadline, member.tz) - deps.clock.now() < timedelta(hours=team.response_hours)):
        errors["deadline"] = FieldError(E_DEADLINE_RESPONSE, {"hours": team.response_hours})
    if errors:
        return Invalid(views.share_form(t, channel_id=data.channel_id, deadline=data.deadline or today,
                                        questions=data.questions, title=data.title, link=data.link, text=data.text,
                                        share_mode=data.share_mode if data.share_mode in set(ShareMode)
                                        else ShareMode.THREAD, errors=errors_text(t, errors),
                                        response_hours=team.response_hours))
    channel = ChannelRef(author.workspace, data.channel_id.strip())
    members = await deps.messenger(author.workspace.platform).member_count(channel)
    needs_confirmation = members > rules.CONFIRM_ABOVE_MEMBERS
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        channel_id = await repo.ensure_channel(conn, member.workspace_id, channel.id)
        round_id = await repo.insert_round(
            conn, workspace_id=member.workspace_id, channel_id=channel_id, author_id=member.id,
            title=data.title.strip(), link=data.link.strip(), body=data.text.strip(),
            questions=[q.strip() for q in data.questions], share_mode=data.share_mode, locale=t.language,
            status=RoundStatus.AWAITING_CONFIRMATION if needs_confirmation else RoundStatus.OPEN,
            deadline_at=rules.deadline_instant(data.deadline, member.tz), created_at=now)
        if not needs_confirmation:
            await _start(conn, round_id, member.workspace_id, now)
    if needs_confirmation:
        return Confirm(views.confirm_form(t, round_id=round_id, members=members))
    deps.wake_worker()
    return Done(_shared(t, round_id))


async def _start(conn: AsyncConnection, round_id: int, workspace_id: int, now: datetime) -> None:
    round_ = await repo.get_round(conn, round_id)
    await completions.announce(conn, workspace_id=workspace_id, member_id=round_.author.id, kind=completions.ROUND,
                               at=now, ref=round_id)
    await queue.enqueue(conn, "round.fan_out", f"fanout:{round_id}", {"round": round_id}, due_at=now, now=now,
                        workspace_id=workspace_id)
    await queue.enqueue(conn, "round.close", f"close:{round_id}", {"round": round_id}, due_at=round_.deadline_at,
                        now=now, workspace_id=workspace_id)


async def confirm_share(deps: Deps, *, author: PersonRef, round_id: int) -> Done:
    member = await known_person(deps, author, refresh=False)
    t = await person_translator(deps, member)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        round_ = await repo.get_round(conn, round_id)
        if round_ is None or round_.author.id != member.id:
            return Done(views.notice(t.gettext("That round isn't yours to send.")))
        if not await repo.update_round(conn, round_id, expect_status=RoundStatus.AWAITING_CONFIRMATION,
                                       status=RoundStatus.OPEN, created_at=now):
            return Done(views.notice(t.gettext("This round was already sent.")))
        await _start(conn, round_id, member.workspace_id, now)
    deps.wake_worker()
    return Done(_shared(t, round_id))


# --- answering ------------------------------------------------------------------------------------
async def _answerable(deps: Deps, conn: AsyncConnection, person: MemberRow, round_id: int,
                      t: Translator) -> RoundRow | Notice:
    round_ = await repo.get_round(conn, round_id)
    if round_ is None or round_.workspace.id != person.workspace_id:
        return views.notice(t.gettext("This round no longer exists."))
    if rules.is_closed(round_.deadline_at, round_.status, deps.clock.now()):
        return views.notice(t.gettext("This round is closed, so answers can't be added any more. "
                                      "The summary is in the thread."))
    if person.id != round_.author.id and not await repo.is_recipient(conn, round_id, person.id):
        return views.notice(t.gettext("This round was shared with the members of its channel when it started, "
                                      "and you weren't one of them. Ask {name} if you'd like to join in.",
                                      name=round_.author.name or round_.author.ref.id))
    return round_


async def answer_form(deps: Deps, *, person: PersonRef, round_id: int) -> Form | Notice:
    """The answer form with the person's previous answers. A person we know is read in the same
    transaction as the round (the Answer button's work runs between other people's acknowledgements)."""
    async with deps.db.transaction() as conn:
        member = await repo.find_member(conn, person)
        if member is not None and member.name:
            t = await person_translator(deps, member)
            found = await _answerable_with_previous(deps, conn, member, round_id, t)
    if member is None or not member.name:
        member = await known_person(deps, person)
        t = await person_translator(deps, member)
        async with deps.db.transaction() as conn:
            found = await _answerable_with_previous(deps, conn, member, round_id, t)
    if isinstance(found, Notice):
        return found
    round_, previous = found
    return views.answer_form(t, round_, previous.texts if previous else ())


async def _answerable_with_previous(deps: Deps, conn: AsyncConnection, member: MemberRow, round_id: int,
                                    t: Translator) -> tuple[RoundRow, AnswerRow | None] | Notice:
    round_ = await _answerable(deps, conn, member, round_id, t)
    if isinstance(round_, Notice):
        return round_
    return round_, await repo.find_answer(conn, round_id, member.id)


async def submit_answer(deps: Deps, *, person: PersonRef, round_id: int, texts: tuple[str, ...],
                        channel: str | None = None) -> Invalid | Done | None:
    """The answer form's submission, before it is acknowledged. Answers with mistakes come back as the
    form with a sentence per field, so the person keeps what they typed. Good answers are queued as a
    `round.store_answer` job, committed together with the other answers arriving at the same moment,
    and None says the form may close: once that commit is done nothing typed can be lost, and the job
    stores them, queues the thread reply and shows `channel` the thank-you. Checking the round and
    storing the answers before the acknowledgement had made 50 answers at once wait for 50 database
    transactions in turn."""
    if rules.validate_answers(texts):  # rare: the person's language and the form need the database
        return await record_answer(deps, person=person, round_id=round_id, texts=texts)
    payload = {"platform": person.workspace.platform, "workspace": person.workspace.id, "person": person.id,
               "round": round_id, "texts": list(texts), "channel": channel}
    # One key per person and round: a second submission while the first waits replaces it, and one
    # arriving while it runs runs after it (re-armed), so the newer answers are the ones kept.
    await queue.enqueue_together(deps.db, "round.store_answer", rules.answers_in_key(person, round_id), payload,
                                 now=deps.clock.now())
    deps.wake_worker()
    return None


async def store_answer(deps: Deps, job: Job) -> None:
    """A submitted answer form (`submit_answer`): store it, and tell the person where it went (or why it
    could not be added: the round closed in between, or they were never asked)."""
    p = job.payload
    person = PersonRef(WorkspaceRef(p["platform"], p["workspace"]), p["person"])
    result = await record_answer(deps, person=person, round_id=p["round"], texts=tuple(p["texts"]))
    if isinstance(result, Invalid):  # cannot happen: the same checks passed before the form closed
        raise Permanent("the answers were checked before the form closed and now fail the same checks")
    if result.notice is not None:
        await deps.messenger(person.workspace.platform).notice(person, result.notice, channel=p["channel"])


async def record_answer(deps: Deps, *, person: PersonRef, round_id: int, texts: tuple[str, ...]) -> Invalid | Done:
    """Store (or replace) a person's answers and queue the thread reply (or its update)."""
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        round_ = await _answerable(deps, conn, member, round_id, t)
        if isinstance(round_, Notice):
            return Done(round_)
        errors = rules.validate_answers(texts)
        if errors:
            return Invalid(views.answer_form(t, round_, texts, errors_text(t, errors)))
        answer_id = await repo.save_answer(conn, round_id, member.id, [x.strip() for x in texts], now)
        await queue.enqueue(conn, "round.post_answer", f"answer:{answer_id}", {"answer": answer_id}, due_at=now,
                            now=now, workspace_id=member.workspace_id, rearm=True)
        if member.home_opened_at is not None:  # the round leaves the open rounds on their Home
            await queue.enqueue(conn, HOME_REFRESH, f"home:answered:{member.id}", {"member": member.id},
                                due_at=now, now=now, workspace_id=member.workspace_id, rearm=True)
    deps.wake_worker()
    where = {ShareMode.THREAD: t.gettext("Thank you! Your answers are in the thread."),
             ShareMode.ANONYMOUS: t.gettext("Thank you! Your answers are in the thread, without your name."),
             ShareMode.AUTHOR_ONLY: t.gettext("Thank you! The author sees your answers; everyone sees them when "
                                              "the round closes.")}
    return Done(views.notice(where[round_.share_mode]))


# --- jobs -------------------------------------------------------------------------------------------
async def _round(deps: Deps, round_id: int) -> RoundRow:
    async with deps.db.transaction() as conn:
        round_ = await repo.get_round(conn, round_id)
    if round_ is None:
        raise Permanent(f"round {round_id} is gone")
    return round_


def _round_translator(deps: Deps, round_: RoundRow) -> Translator:
    return translator(round_.locale, round_.workspace.locale, deps.settings.unmeet_default_locale)


async def fan_out(deps: Deps, job: Job) -> None:
    """List the channel's members and queue one DM per member (except the author), then the channel post.
    Bots and deactivated people are filtered when each DM is sent, from the directory."""
    round_ = await _round(deps, job.payload["round"])
    if round_.status != RoundStatus.OPEN:
        return
    people = await deps.messenger(round_.workspace.ref.platform).channel_members(round_.channel)
    now = deps.clock.now()
    audience = list(dict.fromkeys(p.ref.id for p in people
                                  if p.ref.id != round_.author.ref.id and not p.is_bot and not p.deleted))
    async with deps.db.transaction() as conn:
        ids = await repo.ensure_members(conn, round_.workspace.id, audience)
        member_ids = [ids[external_id] for external_id in audience]
        await repo.add_recipients(conn, round_.id, member_ids)
        await repo.update_round(conn, round_.id, asked=len(member_ids))
        await queue.enqueue_many(conn, "round.dm", [(f"dm:{round_.id}:{m}", {"round": round_.id, "member": m})
                                                    for m in member_ids],
                                 due_at=now, now=now, workspace_id=round_.workspace.id)
        await queue.enqueue(conn, "round.post", f"post:{round_.id}", {"round": round_.id}, due_at=now, now=now,
                            workspace_id=round_.workspace.id)
        await _refresh_homes(conn, round_, "open", now, only=round_.author)  # now among the rounds they shared


async def _refresh_homes(conn: AsyncConnection, round_: RoundRow, moment: str, now: datetime, *,
                         only: MemberRow | None = None) -> None:
    """Queue a Home refresh for the round's people (or `only` that one, as the job read them) who have
    opened their Home: the round just joined or left their lists there. One row per person and moment.
    Someone who first opens their Home after the job read them sees the round there already: opening
    publishes it, and they were the round's since it started."""
    if only is None:
        viewers = await repo.home_viewers(conn, round_.id)
    else:
        viewers = [only.id] if only.home_opened_at is not None else []
    await queue.enqueue_many(conn, HOME_REFRESH, [(f"home:{round_.id}:{m}:{moment}", {"member": m}) for m in viewers],
                             due_at=now, now=now, workspace_id=round_.workspace.id)


async def post_round(deps: Deps, job: Job) -> None:
    round_ = await _round(deps, job.payload["round"])
    if round_.post is not None:
        return
    posted = await _deliver(deps, job, round_.channel, views.round_post(_round_translator(deps, round_), round_))
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await repo.update_round(conn, round_.id, post_conversation=posted.conversation, post_id=posted.id)
        # Someone may have answered from their DM before the post existed; their reply waits for it.
        for answer in await repo.round_answers(conn, round_.id):
            if answer.reply is None:
                await queue.reschedule(conn, f"answer:{answer.id}", now)
    deps.wake_worker()


async def _refreshed(deps: Deps, member: MemberRow) -> tuple[MemberRow, dict]:
    """Make sure we know whether this person is a bot or gone, their language and time zone: the member
    as the directory says now, and the facts to store with the outcome ({} when ours are recent)."""
    now = deps.clock.now()
    if member.refreshed_at is not None and now - member.refreshed_at < MEMBER_INFO_MAX_AGE:
        return member, {}
    info = await deps.messenger(member.ref.workspace.platform).person(member.ref)
    facts = {k: v for k, v in {"name": info.name, "locale": info.locale, "tz": info.tz, "is_bot": info.is_bot,
                               "deleted": info.deleted}.items() if v is not None}
    return replace(member, **facts, refreshed_at=now), {**facts, "refreshed_at": now}


async def _round_and_member(deps: Deps, round_id: int, member_id: int) -> tuple[RoundRow, MemberRow]:
    async with deps.db.transaction() as conn:
        round_ = await repo.get_round(conn, round_id)
        if round_ is None:
            raise Permanent(f"round {round_id} is gone")
        try:
            return round_, await repo.get_member(conn, member_id)
        except NoResultFound:  # erased (`unmeet data erase`) after this job was queued
            raise Permanent(f"member {member_id} is gone") from None


async def _deliver(deps: Deps, job: Job, where: ChannelRef | MemberRow, message, *,
                   thread: str | None = None) -> Posted | None:
    """Send once. A recovered job (its worker died, maybe right after sending) first asks the platform
    whether the message already arrived. A person who can't be reached is marked so; returns None."""
    platform = where.workspace.platform if isinstance(where, ChannelRef) else where.ref.workspace.platform
    messenger = deps.messenger(platform)
    target = where if isinstance(where, ChannelRef) else where.ref
    if job.recovered:
        sent = await messenger.find_sent(target, job.key, thread=thread)
        if sent is not None:
            return sent
    if isinstance(where, ChannelRef):
        return await messenger.post(where, message, thread=thread, key=job.key)
    try:
        return await messenger.send_dm(where.ref, message, key=job.key)
    except Unreachable as gone:
        async with deps.db.transaction() as conn:
            await repo.mark_unreachable(conn, where.id, str(gone) or "unreachable")
        return None


async def send_dm(deps: Deps, job: Job) -> None:
    """The questions to one member; then their reminder is scheduled in their own time zone. What the
    directory said about them is stored in the same transaction as the outcome."""
    round_, member = await _round_and_member(deps, job.payload["round"], job.payload["member"])
    if rules.is_closed(round_.deadline_at, round_.status, deps.clock.now()):
        return
    member, facts = await _refreshed(deps, member)
    if member.is_bot or member.deleted or member.unreachable:
        async with deps.db.transaction() as conn:
            await repo.update_member(conn, member.id, **facts)
            await repo.update_recipient(conn, round_.id, member.id,
                                        unreachable="bot" if member.is_bot else member.unreachable or "deleted")
        await _report_when_settled(deps, round_)
        return
    t = translator(member.locale, round_.workspace.locale, deps.settings.unmeet_default_locale)
    try:
        posted = await _deliver(deps, job, member, views.round_dm(t, round_, member.tz))
    except Exception as error:
        gives_up = isinstance(error, Permanent) or job.attempts >= deps.settings.job_max_attempts  # dies now
        async with deps.db.transaction() as conn:
            await repo.update_member(conn, member.id, **facts)  # a retry needn't ask the directory again
            if gives_up:
                await repo.update_recipient(conn, round_.id, member.id, unreachable=REACH_FAILED)
        if gives_up:
            await _report_when_settled(deps, round_)
        raise
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await repo.update_member(conn, member.id, **facts)
        if posted is None:
            reason = (await repo.get_member(conn, member.id)).unreachable or "unreachable"
            await repo.update_recipient(conn, round_.id, member.id, unreachable=reason)
        else:
            await repo.update_recipient(conn, round_.id, member.id, dm_conversation=posted.conversation,
                                        dm_id=posted.id)
            await _refresh_homes(conn, round_, "open", now, only=member)
            when = rules.reminder_time(round_.deadline_at, member.tz, now + rules.REMINDER_GAP)
            if when is not None:
                await queue.enqueue(conn, "round.remind", f"remind:{round_.id}:{member.id}",
                                    {"round": round_.id, "member": member.id}, due_at=when, now=now,
                                    workspace_id=round_.workspace.id)
    await _report_when_settled(deps, round_)


async def _report_when_settled(deps: Deps, round_: RoundRow) -> None:
    """Once every member's DM was delivered or given up on, queue the author's reach report. Each DM
    checks after its own commit, so the last one to settle sees them all; the key keeps it to one."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        if await repo.unsettled_recipients(conn, round_.id) == 0:
            await queue.enqueue(conn, "round.reach_report", f"reach:{round_.id}", {"round": round_.id}, due_at=now,
                                now=now, workspace_id=round_.workspace.id)
    deps.wake_worker()


REACH_FAILED = "failed"  # a recipient whose DM job gave up (errors other than "can't be reached")


async def report_reach(deps: Deps, job: Job) -> None:
    """Tell the author how many members the questions could not reach, and why; nothing if all got them.
    Messengers name the reason in `Unreachable`: "blocked" (the person blocked the app) is told apart.
    Bots and people no longer in the workspace or team ("deleted") were never meant to get it."""
    round_ = await _round(deps, job.payload["round"])
    async with deps.db.transaction() as conn:
        reasons = await repo.recipient_problems(conn, round_.id)
    groups = {"blocked": "blocked", REACH_FAILED: "failed"}
    counts = Counter(groups.get(reason, "other") for reason in reasons if reason not in ("bot", "deleted"))
    if not counts:
        return
    author = round_.author
    t = translator(author.locale, round_.workspace.locale, deps.settings.unmeet_default_locale)
    await _deliver(deps, job, author, views.reach_report(t, round_, counts))


async def send_reminder(deps: Deps, job: Job) -> None:
    """One reminder, only to someone who has not answered, only while the round is open."""
    round_, member = await _round_and_member(deps, job.payload["round"], job.payload["member"])
    if rules.is_closed(round_.deadline_at, round_.status, deps.clock.now()) or member.unreachable or member.deleted:
        return
    async with deps.db.transaction() as conn:
        if await repo.has_answered(conn, round_.id, member.id):
            return
        recipient = await repo.get_recipient(conn, round_.id, member.id)
        if recipient is None or recipient.reminded_at is not None or recipient.unreachable:
            return
        await hold_nudge(conn, member_id=member.id, now=deps.clock.now(), channel_id=round_.channel_id)
    t = translator(member.locale, round_.workspace.locale, deps.settings.unmeet_default_locale)
    await _deliver(deps, job, member, views.reminder_dm(t, round_, member.tz))
    async with deps.db.transaction() as conn:
        await repo.update_recipient(conn, round_.id, member.id, reminded_at=deps.clock.now())


async def post_answer(deps: Deps, job: Job) -> None:
    """Put an answer where the round's mode says: the thread (attributed or anonymous), or — while an
    author-only round is open — a DM to the author. An answer already posted there is updated."""
    async with deps.db.transaction() as conn:
        answer = await repo.get_answer(conn, job.payload["answer"])
    if answer is None:
        return
    round_ = await _round(deps, answer.round_id)
    messenger = deps.messenger(round_.workspace.ref.platform)
    t = _round_translator(deps, round_)
    to_author = round_.share_mode == ShareMode.AUTHOR_ONLY and round_.status == RoundStatus.OPEN
    name = None if round_.share_mode == ShareMode.ANONYMOUS else (answer.member.name or answer.member.ref.id)
    message = views.answer_reply(t, round_, name, answer.texts)
    if to_author:
        if answer.reply is not None:
            await messenger.update(answer.reply, message, workspace=round_.workspace.ref)
            return
        posted = await _deliver(deps, job, round_.author, message)
        if posted is None:
            return
    else:
        if round_.post is None:
            raise RetryLater("the round is not posted yet", seconds=5)
        if answer.reply is not None and answer.reply.conversation == round_.post.conversation:
            await messenger.update(answer.reply, message, workspace=round_.workspace.ref)
        else:
            posted = await _deliver(deps, job, round_.channel, message, thread=round_.post.id)
            async with deps.db.transaction() as conn:
                await repo.set_answer_reply(conn, answer.id, posted)
        if round_.share_mode == ShareMode.AUTHOR_ONLY:
            await _summary_after_answers(deps, round_)
        return
    async with deps.db.transaction() as conn:
        await repo.set_answer_reply(conn, answer.id, posted)


async def _summary_after_answers(deps: Deps, round_: RoundRow) -> None:
    """A closed author-only round: its summary follows the answers into the thread. Whichever answer
    lands there last queues it (each checks after its own commit, so one of them sees all); the key
    keeps it to one. Queuing it at close instead made it wait on a timer, which `jobs run-due` with a
    fixed clock never reaches."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        answers = await repo.round_answers(conn, round_.id)
        if all(a.reply is not None and a.reply.conversation == round_.post.conversation for a in answers):
            await queue.enqueue(conn, "round.post_summary", f"summary:{round_.id}", {"round": round_.id},
                                due_at=now, now=now, workspace_id=round_.workspace.id)
    deps.wake_worker()


async def close_round(deps: Deps, job: Job) -> None:
    """At the deadline: close, summarise, and queue the summary (and, for author-only rounds, the answers)."""
    round_ = await _round(deps, job.payload["round"])
    now = deps.clock.now()
    if round_.status != RoundStatus.OPEN:
        return
    if now < round_.deadline_at:
        raise Defer(round_.deadline_at)
    async with deps.db.transaction() as conn:
        answers = await repo.round_answers(conn, round_.id)
    anonymous = round_.share_mode == ShareMode.ANONYMOUS
    data = SummaryInput(
        round_id=round_.id, workspace_id=round_.workspace.id, title=round_.title, locale=round_.locale,
        anonymous=anonymous, questions=round_.questions, asked=round_.asked,
        answers=tuple(AnswerText(a.id, None if anonymous else (a.member.name or a.member.ref.id), a.texts)
                      for a in answers))
    summary = await deps.summariser.summarise(data)
    async with deps.db.transaction() as conn:
        if not await repo.update_round(conn, round_.id, expect_status=RoundStatus.OPEN, status=RoundStatus.CLOSED,
                                       closed_at=now):
            return
        await repo.save_summary(conn, round_.id, kind=summary.kind, headline=summary.headline,
                                body=summary_to_json(summary), model=summary.model, prompt_id=summary.prompt_id,
                                tokens_in=summary.tokens_in, tokens_out=summary.tokens_out, created_at=now)
        follow_up = [("round.mark_closed", f"closed:{round_.id}")]
        if round_.share_mode == ShareMode.AUTHOR_ONLY and answers:
            for answer in answers:  # the last of them to land in the thread queues the summary
                await queue.enqueue(conn, "round.post_answer", f"answer:{answer.id}", {"answer": answer.id},
                                    due_at=now, now=now, workspace_id=round_.workspace.id, rearm=True)
        else:
            follow_up.append(("round.post_summary", f"summary:{round_.id}"))
        for kind, key in follow_up:
            await queue.enqueue(conn, kind, key, {"round": round_.id}, due_at=now, now=now,
                                workspace_id=round_.workspace.id)
        await _refresh_homes(conn, round_, "closed", now)


def summary_to_json(summary) -> dict:
    from dataclasses import asdict

    return asdict(summary)


def summary_from_json(data: dict):
    from core.domain.summary import QuestionSummary, Quote, SummaryResult, Theme

    def theme(d):
        return Theme(d["label"], d["count"], tuple(Quote(**q) for q in d.get("quotes", ())))

    return SummaryResult(
        **{**data,
           "questions": tuple(QuestionSummary(q["question"], q["answered"], tuple(theme(x) for x in q["themes"]),
                                              tuple(Quote(**x) for x in q["quotes"])) for q in data["questions"]),
           "themes": tuple(theme(x) for x in data.get("themes", ())),
           "disagreements": tuple(data.get("disagreements", ())),
           "open_questions": tuple(data.get("open_questions", ()))})


async def post_summary(deps: Deps, job: Job) -> None:
    round_ = await _round(deps, job.payload["round"])
    if round_.post is None:
        raise RetryLater("the round is not posted yet", seconds=5)
    async with deps.db.transaction() as conn:
        stored = await repo.get_summary(conn, round_.id)
        answers = await repo.round_answers(conn, round_.id)
    if round_.share_mode == ShareMode.AUTHOR_ONLY and any(
            a.reply is None or a.reply.conversation != round_.post.conversation for a in answers):
        raise Defer(deps.clock.now() + timedelta(seconds=2))  # the answers go in the thread first
    summary = await _quotes_linked(deps, round_, summary_from_json(stored.body), answers)
    message = views.summary_message(_round_translator(deps, round_), summary,
                                    anonymous=round_.share_mode == ShareMode.ANONYMOUS)
    await _deliver(deps, job, round_.channel, message, thread=round_.post.id)


async def _quotes_linked(deps: Deps, round_: RoundRow, summary: SummaryResult,
                         answers: list[AnswerRow]) -> SummaryResult:
    """Each quote links to the thread reply it comes from, where the platform can give a link (Slack's
    permalink, Teams' deep link): one per quoted answer, made when the summary is posted. A link that
    can't be had is left out; it never holds the summary back."""
    permalink = getattr(deps.messenger(round_.workspace.ref.platform), "permalink", None)
    replies = {a.id: a.reply for a in answers if a.reply is not None}
    quoted = {q.answer_id for th in summary.themes for q in th.quotes} | {
        q.answer_id for item in summary.questions for q in item.quotes}
    quoted = sorted(quoted & replies.keys())
    if permalink is None or not quoted:
        return summary
    found = await asyncio.gather(*(permalink(replies[i], workspace=round_.workspace.ref) for i in quoted),
                                 return_exceptions=True)
    links = {i: url for i, url in zip(quoted, found) if isinstance(url, str)}
    if len(links) < len(quoted):
        log.warning("round %s: %d of %d quote links missing", round_.id, len(quoted) - len(links), len(quoted))

    def linked(quotes):
        return tuple(replace(q, link=q.link or links.get(q.answer_id)) for q in quotes)

    return replace(summary, themes=tuple(replace(th, quotes=linked(th.quotes)) for th in summary.themes),
                   questions=tuple(replace(item, quotes=linked(item.quotes)) for item in summary.questions))


async def mark_closed(deps: Deps, job: Job) -> None:
    """The channel post loses its Answer button once the round is closed."""
    round_ = await _round(deps, job.payload["round"])
    if round_.post is None:
        raise RetryLater("the round is not posted yet", seconds=5)
    await deps.messenger(round_.workspace.ref.platform).update(
        round_.post, views.round_post(_round_translator(deps, round_), round_, closed=True),
        workspace=round_.workspace.ref)


ROUND_JOBS = {
    "round.fan_out": fan_out,
    "round.post": post_round,
    "round.dm": send_dm,
    "round.remind": send_reminder,
    "round.store_answer": store_answer,
    "round.post_answer": post_answer,
    "round.close": close_round,
    "round.post_summary": post_summary,
    "round.mark_closed": mark_closed,
    "round.reach_report": report_reach,
}
