"""Team agreements: prepare (the questionnaire round), edit, publish, show; the typed rules the app
obeys; actions with owners and due dates; adopting rules from elsewhere (`add_rules`).

The stored principles, rules and actions of a channel's agreement are its lead's working draft. Only
`publish_agreement` makes a version: it snapshots the draft, posts or edits the one channel message
(a job), schedules the action owners' DMs and is the one place that says "an agreement was published".

Rules adopted before any principle exists (`add_rules`, e.g. from the stuck log's decision-rights
proposal) are kept in the draft as they are; the edit form then opens with the sentence that a
principle comes first, and publishing is refused until one is written. Nothing adopted is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.exc import NoResultFound

from core.domain import agreements as rules
from core.domain.agreements import NONE, ActionInput, ActionState, AgreementInput, Rule, RuleKind
from core.domain.refs import ChannelRef, PersonRef, WorkspaceRef
from core.domain.rounds import RoundStatus, ShareInput, ShareMode, zone
from core.domain.text import N_
from core.jobs import queue
from core.jobs.queue import Job
from core.jobs.worker import Defer, Permanent
from core.messages import agreements as views
from core.messages.i18n import Translator, translator
from core.messages.model import Form, Message
from core.persistence import agreements as store
from core.persistence import repository as repo
from core.persistence.agreements import ActionRow, AgreementRow, Content
from core.persistence.repository import MemberRow
from core.services import rounds, stuck
from core.services.deps import Deps
from core.services import completions
from core.services.nudges import hold_nudge
from core.services.outcomes import Done, Invalid
from core.services.rounds import errors_text, known_person, person_translator

log = logging.getLogger("unmeet.agreements")


@dataclass(frozen=True)
class RulesAdded:
    """What `add_rules` did: how many rules the draft got, and whether it still needs a principle
    before it can be published. `refused` is a sentence (the person's language) when nothing was added."""

    agreement_id: int | None
    added: int
    needs_principle: bool
    refused: str | None = None


async def may_edit(deps: Deps, agreement: AgreementRow | None, member: MemberRow) -> bool:
    """A draft nobody published yet: anyone who opens it (they become its lead). A published agreement:
    its lead or an admin of the channel (where the platform can tell: `Messenger.is_channel_admin`)."""
    if agreement is None or agreement.version == 0 or agreement.lead_id in (None, member.id):
        return True
    is_admin = getattr(deps.messenger(member.ref.workspace.platform), "is_channel_admin", None)
    if is_admin is None:
        return False
    try:
        return bool(await is_admin(ChannelRef(member.ref.workspace, agreement.channel_external_id), member.ref))
    except Exception:  # noqa: BLE001 - a directory hiccup refuses rather than lets anyone edit
        log.warning("could not ask whether %s manages the channel", member.ref.id, exc_info=True)
        return False


async def add_rules(deps: Deps, *, workspace: WorkspaceRef, channel: str, by: PersonRef,
                    texts: list[str]) -> RulesAdded:
    """Add free-text rules to the draft of `channel`'s agreement (created, led by `by`, if the channel
    has none). Blank lines are skipped and each rule is cut to `RULE_MAX` characters. The rules take
    effect for the team when the lead next publishes; with no principle yet the draft keeps them and
    the edit form asks for a principle first (see the module's note)."""
    member = await known_person(deps, by, refresh=False)
    t = await person_translator(deps, member)
    clean = [text.strip()[:rules.RULE_MAX] for text in texts if text and text.strip()]
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, workspace, now=now)
        channel_id = await repo.ensure_channel(conn, workspace_id, channel)
        existing = await store.find_agreement(conn, channel_id)
    if not await may_edit(deps, existing, member):
        return RulesAdded(existing.id, 0, False, refused=t.gettext(
            "Only the lead of this team's agreement or a channel admin can change it."))
    async with deps.db.transaction() as conn:
        agreement = await store.ensure_agreement(conn, workspace_id=workspace_id, channel_id=channel_id,
                                                 lead_id=member.id, now=now)
        await store.add_rule_rows(conn, agreement.id, [Rule(RuleKind.TEXT, text) for text in clean],
                                  source="adopted")
        await store.update_agreement(conn, agreement.id, updated_at=now)
        content = await store.draft_content(conn, agreement.id)
    return RulesAdded(agreement.id, len(clean), needs_principle=not content.principles)


E_NOT_LEAD = N_("Only the lead of this team's agreement or a channel admin can change it.")
E_NO_CHANNEL = N_("Use this in the team's channel.")


# --- the command ------------------------------------------------------------------------------------
async def agreements_command(deps: Deps, *, person: PersonRef, channel_id: str | None, text: str) -> Message | Form:
    """`/agreements` shows the current agreement; `edit` (`bewerk`) opens the form; `prepare`
    (`voorbereiden`, add `anonymous`/`anoniem` for unnamed answers) sends the questionnaire."""
    words = text.strip().lower().split()
    member = await known_person(deps, person)
    t = await person_translator(deps, member)
    if not channel_id:
        return views.text(t.gettext(E_NO_CHANNEL))
    if words and words[0] in ("edit", "bewerk", "bewerken"):
        return await edit_form(deps, person=person, channel_id=channel_id)
    if words and words[0] in ("prepare", "voorbereiden"):
        return await prepare(deps, person=person, channel_id=channel_id,
                             anonymous=any(w in ("anonymous", "anoniem") for w in words[1:]))
    if words and words[0] not in ("show", "toon"):
        return views.text(t.gettext("Try /agreements (the current agreement), /agreements edit or "
                                    "/agreements prepare (the questionnaire before the team meeting)."))
    return await show_agreement(deps, person=person, channel_id=channel_id)


async def _agreement_of(deps: Deps, member: MemberRow, channel_id: str) -> tuple[int, AgreementRow | None]:
    async with deps.db.transaction() as conn:
        internal = await repo.ensure_channel(conn, member.workspace_id, channel_id)
        return internal, await store.find_agreement(conn, internal)


async def _render(deps: Deps, t: Translator, agreement: AgreementRow) -> Message | None:
    async with deps.db.transaction() as conn:
        content = await store.published_content(conn, agreement.id)
        names = await store.member_names(conn, {a.owner_id for a in content.actions if a.owner_id} if content else set())
    if content is None:
        return None
    return views.agreement_message(t, version=agreement.version, principles=content.principles, rules=content.rules,
                                   actions=content.actions, names=names,
                                   published=agreement.published_at.date() if agreement.published_at else None)


async def show_agreement(deps: Deps, *, person: PersonRef, channel_id: str) -> Message:
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    _internal, agreement = await _agreement_of(deps, member, channel_id)
    shown = await _render(deps, t, agreement) if agreement is not None and agreement.version else None
    return shown or views.text(t.gettext(
        "This team has no published agreement yet. /agreements prepare sends the questionnaire; "
        "/agreements edit writes it."))


# --- the form ---------------------------------------------------------------------------------------
def _input_from(content: Content, draft: dict | None) -> AgreementInput:
    """The form's values from the working draft; an empty draft starts from the model's draft."""
    free = [r.text for r in content.rules if r.kind == RuleKind.TEXT]
    if not content.principles and not content.rules and not content.actions and draft:
        return AgreementInput(principles="\n".join(line["text"] for line in draft.get("principles", ())),
                              rules="\n".join(line["text"] for line in draft.get("rules", ())),
                              actions=tuple(ActionInput(text=line["text"]) for line in
                                            draft.get("actions", ())[:rules.ACTION_ROWS]))
    team = rules.team_rules(content.rules)
    return AgreementInput(
        principles="\n".join(content.principles), rules="\n".join(free),
        work_start=team.work_start.strftime("%H:%M") if team.work_start else NONE,
        work_end=team.work_end.strftime("%H:%M") if team.work_end else NONE,
        response_hours=str(team.response_hours) if team.response_hours else NONE,
        focus_hours=str(team.focus_goal_minutes // 60) if team.focus_goal_minutes else NONE,
        no_meeting_day=str(min(team.no_meeting_days)) if team.no_meeting_days else NONE,
        agenda="yes" if team.agenda_required else NONE,
        actions=tuple(ActionInput(a.text, str(a.owner_id) if a.owner_id else NONE, a.due_on, a.id, a.state)
                      for a in content.actions))


def _metadata(agreement_id: int | None, version: int, actions: tuple[ActionInput, ...], channel_id: str) -> str:
    """The form carries what it was opened on: the agreement, the version it saw (a second submit of
    the same form is told apart), the stored action of each row, and the channel (last: Teams
    channel ids hold colons)."""
    ids = ",".join(str(a.id or "") for a in actions[:rules.ACTION_ROWS])
    return f"{agreement_id or 0}:{version}:{ids}:{channel_id}"


def parse_metadata(value: str) -> tuple[int, int, list[int | None], str]:
    parts = (value or "").split(":", 3)
    try:
        agreement_id, version = int(parts[0]), int(parts[1])
        ids = [int(x) if x.isdigit() else None for x in parts[2].split(",")] if parts[2] else []
        return agreement_id, version, ids, parts[3]
    except (ValueError, IndexError):
        return 0, 0, [], ""


async def edit_form(deps: Deps, *, person: PersonRef, channel_id: str) -> Form | Message:
    member = await known_person(deps, person)
    t = await person_translator(deps, member)
    _internal, agreement = await _agreement_of(deps, member, channel_id)
    if not await may_edit(deps, agreement, member):
        return views.text(t.gettext(E_NOT_LEAD))
    async with deps.db.transaction() as conn:
        content = await store.draft_content(conn, agreement.id) if agreement else Content((), (), ())
        owners = await store.owner_choices(conn, member.workspace_id)
    data = _input_from(content, agreement.draft if agreement else None)
    errors = {}
    if content.rules and not content.principles:  # rules adopted before any principle (add_rules)
        errors = errors_text(t, {"principles": rules.FieldError(rules.E_PRINCIPLE_FIRST)})
    note = next(iter(errors.values()), None)
    return views.edit_form(t, data, owners=owners, metadata=_metadata(agreement.id if agreement else None,
                                                                       agreement.version if agreement else 0,
                                                                       data.actions, channel_id), note=note)


async def submit_agreement(deps: Deps, *, person: PersonRef, metadata: str, data: AgreementInput) -> Invalid | Done:
    """Validate the form and publish it. Every refusal is the form again with the person's values."""
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    opened_id, opened_version, ids, channel_id = parse_metadata(metadata)
    if not channel_id:
        return Done(views.text(t.gettext(E_NO_CHANNEL)))
    data = replace(data, actions=tuple(replace(a, id=ids[i] if i < len(ids) else None)
                                       for i, a in enumerate(data.actions)))
    internal, agreement = await _agreement_of(deps, member, channel_id)
    async with deps.db.transaction() as conn:
        owners = await store.owner_choices(conn, member.workspace_id)
        stored = {a.id: a for a in await store.agreement_actions_of(conn, agreement.id)} if agreement else {}
    data = replace(data, actions=tuple(replace(a, id=a.id if a.id in stored else None,
                                               state=stored[a.id].state if a.id in stored else ActionState.OPEN)
                                       for a in data.actions))
    today = deps.clock.now().astimezone(zone(member.tz)).date()

    def again(errors: dict[str, str], version: int) -> Invalid:
        return Invalid(views.edit_form(t, data, owners=owners, errors=errors,
                                       metadata=_metadata(agreement.id if agreement else None, version, data.actions,
                                                         channel_id)))

    if not await may_edit(deps, agreement, member):
        return again({"principles": t.gettext(E_NOT_LEAD)}, agreement.version)
    if agreement is not None and (opened_id not in (0, agreement.id) or opened_version != agreement.version):
        return again({"principles": t.gettext(
            "This form was already published (now version {version}). Check your text and publish again "
            "to make it a new version.", version=agreement.version)}, agreement.version)
    errors = rules.validate(data, today=today, owners={str(i) for i, _name in owners}, publishing=True)
    if errors:
        return again(errors_text(t, errors), agreement.version if agreement else 0)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        agreement = await store.ensure_agreement(conn, workspace_id=member.workspace_id, channel_id=internal,
                                                 lead_id=member.id, now=now)
        free = [Rule(RuleKind.TEXT, line) for line in rules.lines(data.rules)]
        await store.replace_draft(conn, agreement.id, principles=rules.lines(data.principles),
                                  rules=free + rules.typed_rules(data), now=now, actions=[
                                      dict(id=a.id, text=a.text.strip(), owner_id=int(a.owner), due_on=a.due)
                                      for a in data.actions if a.text.strip()])
        version = await publish_agreement(deps, conn, agreement_id=agreement.id, by=member)
    deps.wake_worker()
    return Done(views.text(t.gettext("Published version {version} of the team agreement in the channel.",
                                     version=version)))


# --- publishing ---------------------------------------------------------------------------------------
POST_JOB = "agreements.post"
ACTION_JOB = "agreements.action"
ANSWERS_JOB = "agreements.answers"


async def publish_agreement(deps: Deps, conn, *, agreement_id: int, by: MemberRow) -> int:
    """THE moment an agreement is published (the one place to hook "an agreement was published"):
    the draft becomes the next version, the channel message is posted or edited (a job), the action
    owners' DMs are scheduled, and an action that is a stuck log starts one. Returns the version."""
    now = deps.clock.now()
    agreement = await store.get_agreement(conn, agreement_id)
    content = await store.draft_content(conn, agreement_id)
    version = agreement.version + 1
    await store.save_version(conn, agreement_id, version=version, content=content, published_by=by.id, now=now)
    await completions.announce(conn, workspace_id=agreement.workspace_id, member_id=by.id, kind=completions.AGREEMENT,
                               at=now, ref=f"{agreement_id}:{version}")
    await queue.enqueue(conn, POST_JOB, f"agreement.post:{agreement_id}", {"agreement": agreement_id}, due_at=now,
                        now=now, workspace_id=agreement.workspace_id, rearm=True)
    for action in content.actions:
        if action.state != ActionState.OPEN or action.owner_id is None or action.due_on is None:
            continue
        owner = await repo.get_member(conn, action.owner_id)
        for which, at in rules.action_reminders(action.due_on, owner.tz, now):
            await queue.enqueue(conn, ACTION_JOB, f"agreement.action:{action.id}:{action.due_on.isoformat()}:{which}",
                                {"action": action.id, "which": which, "due": action.due_on.isoformat()},
                                due_at=at, now=now, workspace_id=agreement.workspace_id)
        days = rules.stuck_log_days(action.text)
        if days is not None:
            await start_stuck_log_for_action(deps, conn, agreement=agreement, action=action, days=days)
    return version


async def start_stuck_log_for_action(deps: Deps, conn, *, agreement: AgreementRow, action: ActionRow,
                                     days: int) -> None:
    """An action "keep a stuck log for N working days" was published: start the stuck log for the
    channel, led by the agreement's lead. Called on every publish that contains the action; the log
    remembers its action, so it starts once."""
    log_id = await stuck.start_for_action(deps, conn, workspace_id=agreement.workspace_id,
                                          channel_id=agreement.channel_id, lead_id=agreement.lead_id,
                                          action_id=action.id, days=days)
    if log_id is not None:
        log.info("agreement %s: action %s started stuck log %s (%d working days)", agreement.id, action.id,
                 log_id, days)


async def post_job(deps: Deps, job: Job) -> None:
    """Post the agreement's current version in its channel, or edit the message already there (and
    pin it the first time, where the platform can); the member list for the team's focus goal."""
    async with deps.db.transaction() as conn:
        agreement = await store.get_agreement(conn, job.payload["agreement"])
        workspace = await repo.get_workspace(conn, agreement.workspace_id) if agreement else None
    if agreement is None or agreement.version == 0:
        return
    t = translator(workspace.locale, deps.settings.unmeet_default_locale)
    message = await _render(deps, t, agreement)
    messenger = deps.messenger(workspace.ref.platform)
    channel = ChannelRef(workspace.ref, agreement.channel_external_id)
    if agreement.post_id:
        from core.domain.refs import Posted

        posted = Posted(agreement.post_conversation, agreement.post_id)
        await messenger.update(posted, message, workspace=workspace.ref)
    else:
        posted = (await messenger.find_sent(channel, job.key) if job.recovered else None) or await messenger.post(
            channel, message, key=job.key)
        async with deps.db.transaction() as conn:
            await store.update_agreement(conn, agreement.id, post_conversation=posted.conversation, post_id=posted.id)
    pin = getattr(messenger, "pin", None)
    if pin is not None and not agreement.pinned:
        try:
            await pin(channel, posted)
        except Exception:  # noqa: BLE001 - an unpinned agreement is still the agreement
            log.warning("agreement %s: could not pin", agreement.id, exc_info=True)
        else:
            async with deps.db.transaction() as conn:
                await store.update_agreement(conn, agreement.id, pinned=True)
    try:
        people = await messenger.channel_members(channel)
    except Exception:  # noqa: BLE001 - the focus goal waits for the next publish
        log.warning("agreement %s: no member list", agreement.id, exc_info=True)
        return
    async with deps.db.transaction() as conn:
        ids = await repo.ensure_members(conn, agreement.workspace_id, [p.ref.id for p in people if not p.is_bot])
        await store.set_agreement_members(conn, agreement.id, list(ids.values()))


# --- actions ------------------------------------------------------------------------------------------
async def action_job(deps: Deps, job: Job) -> None:
    """The owner's DM, the working day before the due date and on it; only while the action is open
    and still due that day; inside their hours and the team's (the nudge gate)."""
    async with deps.db.transaction() as conn:
        action = await store.get_action(conn, job.payload["action"])
        if action is None or action.state != ActionState.OPEN or action.owner_id is None or (
                action.due_on is None or action.due_on.isoformat() != job.payload["due"]):
            return
        agreement = await store.get_agreement(conn, action.agreement_id)
        try:
            owner = await repo.get_member(conn, action.owner_id)
        except NoResultFound:
            raise Permanent("owner is gone") from None
        if job.payload["which"] == "before" and deps.clock.now().astimezone(zone(owner.tz)).date() >= action.due_on:
            return  # held back until the day itself: that day's DM says it
        await hold_nudge(conn, member_id=owner.id, now=deps.clock.now(), channel_id=agreement.channel_id)
    t = await person_translator(deps, owner)
    message = views.action_dm(t, action_id=action.id, text_=action.text, due=action.due_on,
                              today=job.payload["which"] == "on")
    messenger = deps.messenger(owner.ref.workspace.platform)
    if job.recovered and await messenger.find_sent(owner.ref, job.key) is not None:
        return
    await messenger.send_dm(owner.ref, message, key=job.key)


async def set_action_state(deps: Deps, *, person: PersonRef, value: str) -> Message:
    """"Done / Not yet / Drop" from the owner's DM (or the lead): the published message follows."""
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    action_id, _, state = value.partition("|")
    async with deps.db.transaction() as conn:
        action = await store.get_action(conn, int(action_id)) if action_id.isdigit() else None
        agreement = await store.get_agreement(conn, action.agreement_id) if action else None
    if action is None or member.id not in (action.owner_id, agreement.lead_id):
        return views.text(t.gettext("This action isn't yours, or it is no longer in the agreement."))
    if state == views.NOT_YET:
        return views.text(t.gettext("Noted: still open. You'll hear from me on the due date."))
    if state not in (ActionState.DONE, ActionState.DROPPED):
        return views.text(t.gettext("That button is out of date."))
    if action.state == state:
        return views.text(t.gettext("Already noted."))
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await store.set_action_state(conn, action.id, state, now)
        await queue.enqueue(conn, POST_JOB, f"agreement.post:{agreement.id}", {"agreement": agreement.id},
                            due_at=now, now=now, workspace_id=agreement.workspace_id, rearm=True)
    deps.wake_worker()
    return views.text(t.gettext("Thanks: marked as done.") if state == ActionState.DONE
                      else t.gettext("Dropped from the agreement's open actions."))


# --- prepare: the questionnaire --------------------------------------------------------------------
async def prepare(deps: Deps, *, person: PersonRef, channel_id: str, anonymous: bool = False) -> Message | Form:
    """Send the programme's questionnaire to the channel as a reflection round (DMs, one form,
    reminders, close: core.services.rounds). When it closes the lead gets the answers per topic and,
    with the LLM on, a draft agreement (`answers_job`)."""
    member = await known_person(deps, person)
    t = await person_translator(deps, member)
    q = rules.QUESTIONNAIRE[t.language if t.language in rules.QUESTIONNAIRE else "en"]
    today = deps.clock.now().astimezone(zone(member.tz)).date()
    data = ShareInput(title=q["title"], text=q["text"], questions=q["questions"], deadline=today + timedelta(days=7),
                      share_mode=ShareMode.ANONYMOUS if anonymous else ShareMode.THREAD, channel_id=channel_id)
    result = await rounds.share_insight(deps, author=person, data=data)
    if isinstance(result, rounds.Invalid):  # e.g. the team's response time is longer than a week
        return result.form
    internal, _agreement = await _agreement_of(deps, member, channel_id)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        round_id = await store.latest_round(conn, channel_id=internal, author_id=member.id)
        round_ = await repo.get_round(conn, round_id)
        agreement = await store.ensure_agreement(conn, workspace_id=member.workspace_id, channel_id=internal,
                                                 lead_id=member.id, now=now)
        await store.update_agreement(conn, agreement.id, round_id=round_id, updated_at=now)
        await queue.enqueue(conn, ANSWERS_JOB, f"agreement.answers:{round_id}", {"round": round_id},
                            due_at=round_.deadline_at, now=now, workspace_id=member.workspace_id)
    if isinstance(result, rounds.Confirm):
        return result.form
    return views.text(t.gettext("The questionnaire is on its way to everyone in the channel. When it closes "
                                "({date}) you get the answers per topic.", date=t.date(data.deadline, "d MMMM")))


async def answers_job(deps: Deps, job: Job) -> None:
    """After the questionnaire closes: its answers per topic to the lead, with the model's draft."""
    async with deps.db.transaction() as conn:
        round_ = await repo.get_round(conn, job.payload["round"])
        if round_ is None:
            raise Permanent("round is gone")
        answers = await repo.round_answers(conn, round_.id)
        agreement = await store.find_agreement(conn, round_.channel_id)
    if round_.status == RoundStatus.OPEN or round_.status == RoundStatus.AWAITING_CONFIRMATION:
        raise Defer(max(round_.deadline_at, deps.clock.now()) + timedelta(minutes=1))
    anonymous = round_.share_mode == ShareMode.ANONYMOUS
    numbered = [(n, a) for n, a in enumerate(answers, start=1)]
    groups = [[(n, a.texts[i], None if anonymous else (a.member.name or a.member.ref.id))
               for n, a in numbered if i < len(a.texts) and a.texts[i].strip()] for i in range(len(round_.questions))]
    from core.services import llm

    draft, note = await llm.draft_agreement(deps, round_.workspace.id, round_.questions, groups, round_.locale)
    if draft is not None and agreement is not None:
        async with deps.db.transaction() as conn:
            await store.update_agreement(conn, agreement.id, draft=draft, updated_at=deps.clock.now())
    t = translator(round_.author.locale, round_.workspace.locale, deps.settings.unmeet_default_locale)
    message = views.grouped_answers(t, questions=round_.questions, groups=groups, draft=draft,
                                    draft_note=t.gettext(note) if note else None)
    messenger = deps.messenger(round_.workspace.ref.platform)
    if job.recovered and await messenger.find_sent(round_.author.ref, job.key) is not None:
        return
    await messenger.send_dm(round_.author.ref, message, key=job.key)


AGREEMENT_JOBS = {POST_JOB: post_job, ACTION_JOB: action_job, ANSWERS_JOB: answers_job}
