"""TeamsMessenger: core's Messenger port over the Bot Connector, with references from the database.

- Channels are reached through the reference stored when the bot was mentioned there (or
  installed in the team); a thread reply goes to `<channel id>;messageid=<root id>`. A reply's
  `Posted` is (channel id, "<root id>/<reply id>") so core sees it in the channel's conversation,
  as on Slack, and `update` can find its thread again.
- People are reached through the stored 1:1 chat, or a new one (`create_conversation`) whose
  reference is then stored. 403 `MessageWritesBlocked` and 404 on a 1:1 chat -> `Unreachable`.
- Rosters come from the team's paged members (`/v3/conversations/{team id}/pagedmembers`).
- 412/429/502/503/504 and network failures are retried a few times here (honouring
  `Retry-After`, with jitter), then handed to the job worker as `RetryLater`. Other 4xx answers
  can't succeed by retrying: `Permanent`.
- Sends under a job's key (core's outbox) are recorded in `teams_sends`: begun (committed before the
  request goes out), then the activity id Teams answered with. A send Teams refused is forgotten. The
  Bot Connector can't say whether a message arrived (it reads no conversation's history), so a row
  without an activity id means the worker died (or was stopped) mid-send and nobody knows. Then a DM
  counts as sent, at most once: `send_dm` and `find_sent` return its chat with an empty id and send
  nothing. A channel post is sent again, at least once: its id is what replies and updates go to (a
  round's answers, its summary), so one that may be missing is worse than a repeat. A send that ended
  is never repeated under its key (for the job's generation: a re-armed job sends anew).
- `permalink` builds Teams' deep link to a channel message from stored facts (no request): the
  channel, the message and its thread's root, the tenant, and the team's Microsoft 365 group id,
  which Teams sends with the app's install in the team. Without that id there is no link.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from copy import deepcopy
from typing import Any
from urllib.parse import quote, urlencode

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (Activity, ActivityTypes, Attachment, ChannelAccount, ConversationParameters,
                               ConversationReference, ErrorResponseException)
from msrest.exceptions import ClientRequestError

from core import metrics
from core.domain.refs import ChannelRef, PersonRef, Posted, WorkspaceRef
from core.jobs.worker import Permanent
from core.messages.model import Message
from core.persistence import repository as repo
from core.persistence import teams as store
from core.ports import MessengerError, Person, RetryLater, Unreachable
from core.services.deps import Deps
from teams_app.pacing import Pacer
from teams_app.render import CARD_CONTENT_TYPE, message_card

log = logging.getLogger("unmeet.teams")

RETRYABLE = {412, 429, 502, 503, 504}
INLINE_ATTEMPTS = 4
INLINE_WAIT_MAX = 10.0  # longer waits go back to the job queue instead of holding a worker slot
PAGE_SIZE = 500  # the most Teams returns per page
BLOCKED, NO_CHAT = "blocked", "no_chat"  # reasons core records for people who can't be reached
DEEP_LINK = "https://teams.microsoft.com/l/message"


def card_activity(card: dict, summary: str = "", **fields) -> Activity:
    return Activity(type=ActivityTypes.message, summary=summary or None,
                    attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)], **fields)


def error_details(error: ErrorResponseException) -> tuple[int, str, float | None]:
    """(HTTP status, Teams error code, Retry-After seconds) of a Bot Connector error."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", 0) or 0
    code = getattr(getattr(getattr(error, "error", None), "error", None), "code", None) or ""
    retry_after = None
    try:
        retry_after = float(response.headers["Retry-After"]) if response is not None else None
    except (KeyError, TypeError, ValueError):
        pass
    return status, code, retry_after


def serialise(reference: ConversationReference) -> dict:
    """A reference to store: without the activity it came with, so sends start new messages
    instead of replying to that one."""
    reference = deepcopy(reference)
    reference.activity_id = None
    return reference.serialize()


class TeamsMessenger:
    platform = "teams"

    def __init__(self, deps: Deps, adapter: CloudAdapter, app_id: str, pacer: Pacer | None = None) -> None:
        self.deps = deps
        self.adapter = adapter
        self.app_id = app_id
        self.pacer = pacer or Pacer()

    # --- plumbing ---------------------------------------------------------------------------------
    async def _stored(self, workspace, kind: str, external_id: str) -> store.StoredReference | None:
        async with self.deps.db.transaction() as conn:
            return await store.get_reference(conn, workspace, kind, external_id)

    async def _call(self, tenant: str, conversation: str | None, operation: Callable[[], Awaitable[Any]],
                    method: str = "send_activity") -> Any:
        """Run one Bot Connector request at Teams' pace; retry what Teams says is transient. `method`
        names the request in the metrics."""
        for attempt in range(1, INLINE_ATTEMPTS + 1):
            await self.pacer.wait(conversation, tenant)
            metrics.platform_call("teams", method)
            try:
                return await operation()
            except ErrorResponseException as error:
                status, code, retry_after = error_details(error)
                if status == 429:
                    metrics.rate_limited("teams", method)
                if status not in RETRYABLE:
                    raise
                delay = retry_after if retry_after is not None else 0.5 * 2 ** (attempt - 1)
                why = f"Teams answered {status} {code}".strip()
            except (ClientRequestError, asyncio.TimeoutError, OSError) as error:
                retry_after, delay, why = None, 0.5 * 2 ** (attempt - 1), f"Teams unreachable: {error}"
            delay += random.uniform(0, 0.1 + delay / 4)  # jitter: retries from many sends don't arrive together
            if attempt == INLINE_ATTEMPTS or delay > INLINE_WAIT_MAX:
                raise RetryLater(why, seconds=delay)
            log.info("%s; retrying in %.2fs", why, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop always returns or raises

    async def _in(self, reference: ConversationReference, work: Callable[[TurnContext], Awaitable[Any]]) -> Any:
        """Run `work` in a proactive turn in the referenced conversation."""
        result: dict = {}

        async def callback(turn_context: TurnContext) -> None:
            result["value"] = await work(turn_context)

        await self.adapter.continue_conversation(reference, callback, self.app_id)
        return result.get("value")

    @staticmethod
    def _connector(turn_context: TurnContext):
        return turn_context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]

    async def _send(self, tenant: str, reference: ConversationReference, activity: Activity) -> str:
        async def send(turn_context: TurnContext) -> str:
            turn_context.activity.id = None  # a new message, not a reply to the (made-up) continuation event
            return (await turn_context.send_activity(deepcopy(activity))).id

        return await self._call(tenant, reference.conversation.id, lambda: self._in(reference, send))

    async def _send_once(self, workspace: WorkspaceRef, key: str | None, reference: ConversationReference,
                         activity: Activity, *, dm: bool) -> str:
        """`_send` under a job's key: recorded as begun before the request goes out, and its activity id
        after. A refusal from Teams (or a request Teams never got) forgets it; anything else (the process
        dying, a shutdown cancelling the send) leaves the outcome unknown. A DM another worker began
        meanwhile is theirs to send: its activity id, if known, is returned instead."""
        if key is None:
            return await self._send(workspace.id, reference, activity)
        async with self.deps.db.transaction() as conn:
            began = await store.begin_send(conn, workspace, key, reference.conversation.id, now=self.deps.clock.now(),
                                           once=dm)
            earlier = None if began else await store.find_send(conn, key)
        if not began:
            log.info("a DM under %s was begun by another worker; not sending it again", key)
            return (earlier.activity_id if earlier else None) or ""
        try:
            activity_id = await self._send(workspace.id, reference, activity)
        except (ErrorResponseException, MessengerError):
            async with self.deps.db.transaction() as conn:
                await store.not_sent(conn, key)
            raise
        async with self.deps.db.transaction() as conn:
            await store.sent(conn, key, activity_id, now=self.deps.clock.now())
        return activity_id

    async def _earlier(self, key: str | None) -> store.Send | None:
        if key is None:
            return None
        async with self.deps.db.transaction() as conn:
            return await store.find_send(conn, key)

    @staticmethod
    def _dm_sent(key: str, earlier: store.Send) -> Posted:
        if earlier.activity_id is None:
            log.warning("a DM under %s was being sent when its worker stopped; not sending it again", key)
        return Posted(earlier.conversation_id, earlier.activity_id or "")

    @staticmethod
    def _posted(channel: ChannelRef, thread: str | None, activity_id: str) -> Posted:
        return Posted(channel.id, f"{thread}/{activity_id}" if thread else activity_id)

    @staticmethod
    def _failed(error: ErrorResponseException) -> Permanent:
        status, code, _ = error_details(error)
        return Permanent(f"Teams refused the request: {status} {code}".strip())

    # --- directory --------------------------------------------------------------------------------
    async def _roster(self, channel: ChannelRef) -> list[ChannelAccount]:
        stored = (await self._stored(channel.workspace, store.CHANNEL, channel.id)
                  or await self._stored(channel.workspace, store.TEAM, channel.id))
        if stored is None:
            raise Permanent(f"no stored Teams reference for channel {channel.id}")
        team_id = stored.team_id or stored.external_id
        reference = ConversationReference().deserialize(stored.reference)
        members: list[ChannelAccount] = []
        token = None

        async def page(turn_context: TurnContext):
            return await self._connector(turn_context).conversations.get_conversation_paged_members(
                team_id, PAGE_SIZE, token)

        while True:
            try:
                result = await self._call(channel.workspace.id, None, lambda: self._in(reference, page),
                                          "get_paged_members")
            except ErrorResponseException as error:
                raise self._failed(error) from error
            members.extend(result.members or [])
            token = result.continuation_token
            if not token:
                return members

    async def member_count(self, channel: ChannelRef) -> int:
        return len(await self._roster(channel))

    async def channel_members(self, channel: ChannelRef) -> list[Person]:
        """The team's roster (a standard channel's audience). Names are stored as fresh facts, so
        sending each DM needs no further directory call."""
        roster = await self._roster(channel)
        now = self.deps.clock.now()
        people = [Person(PersonRef(channel.workspace, m.id), m.name or "") for m in roster if m.id]
        async with self.deps.db.transaction() as conn:
            for person in people:
                await store.remember_person(conn, person.ref, now=now, name=person.name, left=False)
        return people

    async def person(self, ref: PersonRef) -> Person:
        """Stored facts (name, language and time zone come from the person's own activities); whether
        they are still in a team the app is installed in comes from that team's roster."""
        async with self.deps.db.transaction() as conn:
            member = await repo.find_member(conn, ref)
            teams = await store.team_references(conn, ref.workspace)
        name = member.name if member else ""
        locale, tz = (member.locale, member.tz) if member else (None, None)
        for team in teams:
            reference = ConversationReference().deserialize(team.reference)

            async def lookup(turn_context: TurnContext, team_id=team.external_id):
                return await self._connector(turn_context).conversations.get_conversation_member(team_id, ref.id)

            try:
                account = await self._call(ref.workspace.id, None, lambda: self._in(reference, lookup), "get_member")
            except ErrorResponseException as error:
                if error_details(error)[0] == 404:
                    continue
                raise self._failed(error) from error
            return Person(ref, account.name or name, locale=locale, tz=tz)
        return Person(ref, name, deleted=bool(teams), locale=locale, tz=tz)

    # --- sending ----------------------------------------------------------------------------------
    async def _channel_reference(self, channel: ChannelRef, thread: str | None) -> ConversationReference:
        stored = (await self._stored(channel.workspace, store.CHANNEL, channel.id)
                  or await self._stored(channel.workspace, store.TEAM, channel.id))
        if stored is None:
            raise Permanent(f"no stored Teams reference for channel {channel.id}")
        reference = ConversationReference().deserialize(stored.reference)
        reference.conversation.id = f"{channel.id};messageid={thread}" if thread else channel.id
        return reference

    async def post(self, channel: ChannelRef, message: Message, *, thread: str | None = None,
                   key: str | None = None) -> Posted:
        earlier = await self._earlier(key)
        if earlier is not None and earlier.activity_id:
            return self._posted(channel, thread, earlier.activity_id)
        return await self.post_card(channel, message_card(message), summary=message.fallback, thread=thread, key=key)

    async def post_card(self, channel: ChannelRef, card: dict, *, summary: str = "",
                        thread: str | None = None, key: str | None = None) -> Posted:
        reference = await self._channel_reference(channel, thread)
        try:
            activity_id = await self._send_once(channel.workspace, key, reference, card_activity(card, summary),
                                                dm=False)
        except ErrorResponseException as error:
            raise self._failed(error) from error
        return self._posted(channel, thread, activity_id)

    async def update(self, posted: Posted, message: Message, *, workspace: WorkspaceRef) -> None:
        await self.update_card(posted, message_card(message), summary=message.fallback)

    async def update_card(self, posted: Posted, card: dict, *, summary: str = "") -> None:
        root, _, activity_id = posted.id.rpartition("/")
        async with self.deps.db.transaction() as conn:
            stored = await store.find_by_conversation(conn, posted.conversation)
        if stored is None:
            raise Permanent(f"no stored Teams reference for conversation {posted.conversation}")
        reference = ConversationReference().deserialize(stored.reference)
        reference.conversation.id = f"{posted.conversation};messageid={root}" if root else posted.conversation
        activity = card_activity(card, summary, id=activity_id)

        async def replace(turn_context: TurnContext):
            return await turn_context.update_activity(deepcopy(activity))

        try:
            await self._call(stored.tenant, reference.conversation.id, lambda: self._in(reference, replace),
                             "update_activity")
        except ErrorResponseException as error:
            raise self._failed(error) from error

    async def send_dm(self, person: PersonRef, message: Message, *, key: str | None = None) -> Posted:
        earlier = await self._earlier(key)
        if earlier is not None:
            return self._dm_sent(key, earlier)
        return await self.send_card(person, message_card(message), summary=message.fallback, key=key)

    async def send_card(self, person: PersonRef, card: dict, *, summary: str = "", key: str | None = None) -> Posted:
        """A card in the person's 1:1 chat with the bot: the stored chat, else a new one."""
        stored = await self._stored(person.workspace, store.PERSON, person.id)
        activity = card_activity(card, summary)
        if stored is not None:
            reference = ConversationReference().deserialize(stored.reference)
            try:
                return Posted(reference.conversation.id,
                              await self._send_once(person.workspace, key, reference, activity, dm=True))
            except ErrorResponseException as error:
                status, code, _ = error_details(error)
                if status == 403 and code == "MessageWritesBlocked":
                    raise Unreachable(BLOCKED) from error
                if status != 404:
                    raise self._failed(error) from error
                # The stored chat is gone (e.g. the app was reinstalled): open a new one below.
        return await self._create_and_send(person, activity, key)

    async def _create_and_send(self, person: PersonRef, activity: Activity, key: str | None) -> Posted:
        async with self.deps.db.transaction() as conn:
            stored = await store.anchor_reference(conn, person.workspace)
        if stored is None:
            raise Unreachable(NO_CHAT)
        anchor = ConversationReference().deserialize(stored.reference)
        parameters = ConversationParameters(
            is_group=False, bot=anchor.bot, members=[ChannelAccount(id=person.id)], tenant_id=person.workspace.id,
            channel_data={"tenant": {"id": person.workspace.id}})
        created: dict = {}

        async def first_message(turn_context: TurnContext) -> None:
            created["reference"] = TurnContext.get_conversation_reference(turn_context.activity)
            created["reference"].conversation.conversation_type = "personal"

        try:
            await self._call(person.workspace.id, f"create:{person.id}", lambda: self.adapter.create_conversation(
                self.app_id, first_message, parameters, anchor.channel_id or "msteams", anchor.service_url),
                "create_conversation")
        except ErrorResponseException as error:
            status, code, _ = error_details(error)
            if status == 403 and code == "MessageWritesBlocked":
                raise Unreachable(BLOCKED) from error
            if status == 404:
                raise Unreachable(NO_CHAT) from error
            raise self._failed(error) from error
        reference: ConversationReference = created["reference"]
        async with self.deps.db.transaction() as conn:
            await store.save_reference(conn, person.workspace, store.PERSON, person.id, serialise(reference),
                                       now=self.deps.clock.now())
        try:
            return Posted(reference.conversation.id,
                          await self._send_once(person.workspace, key, reference, activity, dm=True))
        except ErrorResponseException as error:
            status, code, _ = error_details(error)
            if status == 403 and code == "MessageWritesBlocked":
                raise Unreachable(BLOCKED) from error
            raise self._failed(error) from error

    async def find_sent(self, where: ChannelRef | PersonRef, key: str, *, thread: str | None = None) -> Posted | None:
        """From `teams_sends` (see the module's docstring): a DM that was being sent counts as sent; a
        channel post only once Teams answered with its id."""
        earlier = await self._earlier(key)
        if earlier is None:
            return None
        if isinstance(where, PersonRef):
            return self._dm_sent(key, earlier)
        return self._posted(where, thread, earlier.activity_id) if earlier.activity_id else None

    async def permalink(self, posted: Posted, *, workspace: WorkspaceRef) -> str | None:
        """https://teams.microsoft.com/l/message/{channel}/{message}?tenantId=…&groupId=…&parentMessageId=…
        (the form Microsoft documents for a channel conversation); None while the group id is unknown."""
        root, _, message = posted.id.rpartition("/")
        async with self.deps.db.transaction() as conn:
            group = await store.team_group(conn, workspace, posted.conversation)
        if not group:
            return None
        query = urlencode({"tenantId": workspace.id, "groupId": group, "parentMessageId": root or message})
        return f"{DEEP_LINK}/{quote(posted.conversation, safe=':@')}/{quote(message, safe='')}?{query}"
