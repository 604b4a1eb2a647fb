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
from dataclasses import dataclass

from core.domain import agreements as rules
from core.domain.agreements import Rule, RuleKind
from core.domain.refs import ChannelRef, PersonRef, WorkspaceRef
from core.persistence import agreements as store
from core.persistence import repository as repo
from core.persistence.agreements import AgreementRow
from core.persistence.repository import MemberRow
from core.services.deps import Deps
from core.services.rounds import known_person, person_translator

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
