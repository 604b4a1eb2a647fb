"""SlackMessenger: core's Messenger port on the Slack Web API, through the client of the workspace's
bot (slack_app/bots.py: the one SLACK_BOT_TOKEN, or each installed workspace's own token).

Rate limits are first handled inside slack_sdk (its retry handlers sleep `Retry-After` and try
again); only when they give up does a 429 become `RetryLater`, so the job is retried later by the
queue instead of failing. People who can't be messaged become `Unreachable`; refusals no retry can
mend (not in the channel, archived, message gone) become `Permanent`, so the job fails at once; any
other error is raised for the job worker to retry and, in the end, mark dead with the error kept.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.refs import ChannelRef, PersonRef, Posted, WorkspaceRef
from core.messages.model import File, Message, Notice
from core.jobs.worker import Permanent
from core.ports import Person, RetryLater, Unreachable
from slack_app import render
from slack_app.bots import BotClient, SlackBots

log = logging.getLogger("unmeet.slack")

OUTBOX_EVENT = "unmeet_outbox"  # message metadata event type: finds a message again by its job key
SLACKBOT = "USLACKBOT"
MEMBERS_PAGE = 200
HOME_BLOCKS_MAX = 100  # Slack's limit for a Home tab
# Errors that mean "this person can't get a DM from us"; retrying would not help.
UNREACHABLE_ERRORS = {"user_not_found", "user_disabled", "cannot_dm_bot", "channel_not_found", "not_in_channel",
                      "is_archived", "messages_tab_disabled", "user_not_visible", "account_inactive"}
# Errors that mean "this can never succeed as asked" (the app was removed from the channel, the channel
# was archived, the message is gone, the token is dead): the job fails at once instead of 8 times.
REFUSED_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "message_not_found",
                  "cant_update_message", "edit_window_closed", "msg_too_long", "invalid_blocks", "invalid_auth",
                  "not_authed", "token_revoked", "account_inactive", "missing_scope"}


def _retry_after(headers) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


@asynccontextmanager
async def slack_errors(*, dm: bool = False):
    """Translate slack_sdk's errors into the port's: RetryLater for 429 once slack_sdk gave up,
    Unreachable for a DM that can never arrive, Permanent for anything else retrying can't mend.
    Everything else (5xx once slack_sdk gave up, say) propagates and is retried by the queue."""
    try:
        yield
    except SlackApiError as error:
        response = error.response
        code = response.get("error") if response is not None else None
        if response is not None and (response.status_code == 429 or code == "ratelimited"):
            raise RetryLater(f"slack rate limit: {code}", seconds=_retry_after(response.headers)) from error
        if dm and code in UNREACHABLE_ERRORS:
            raise Unreachable(code) from error
        if code in REFUSED_ERRORS:
            raise Permanent(f"Slack refused: {code}") from error
        raise


class SlackMessenger:
    platform = "slack"

    def __init__(self, bots: SlackBots):
        self.bots = bots
        self._bot_user_id: str | None = None

    async def _client(self, workspace: WorkspaceRef) -> AsyncWebClient:
        return (await self.bots.bot(workspace)).client

    async def person(self, ref: PersonRef) -> Person:
        client = await self._client(ref.workspace)
        async with slack_errors():
            response = await client.users_info(user=ref.id, include_locale=True)
        user = response["user"]
        profile = user.get("profile") or {}
        name = user.get("real_name") or profile.get("real_name") or profile.get("display_name") or user.get("name")
        return Person(ref=ref, name=name or ref.id, is_bot=bool(user.get("is_bot")) or ref.id == SLACKBOT,
                      deleted=bool(user.get("deleted")), locale=user.get("locale"), tz=user.get("tz"))

    async def member_count(self, channel: ChannelRef) -> int:
        client = await self._client(channel.workspace)
        async with slack_errors():
            response = await client.conversations_info(channel=channel.id, include_num_members=True)
        return int(response["channel"].get("num_members") or 0)

    async def _own_user_id(self, bot: BotClient) -> str | None:
        """The app's bot user, a member of every channel it posts in: never a recipient. An installed
        workspace's is stored with its install; SLACK_BOT_TOKEN's is asked once."""
        if bot.user_id:
            return bot.user_id
        if self._bot_user_id is None:
            async with slack_errors():
                self._bot_user_id = (await bot.client.auth_test()).get("user_id") or ""
        return self._bot_user_id or None

    async def channel_members(self, channel: ChannelRef) -> list[Person]:
        """Every member id, page by page. The listing says nothing about bots, except the app's own
        user and Slackbot; the rest are checked in the directory when their DM is due."""
        bot = await self.bots.bot(channel.workspace)
        own = await self._own_user_id(bot)
        ids: list[str] = []
        cursor = None
        while True:
            async with slack_errors():
                response = await bot.client.conversations_members(channel=channel.id, limit=MEMBERS_PAGE,
                                                                   cursor=cursor)
            ids += response.get("members") or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return [Person(PersonRef(channel.workspace, uid), "", is_bot=uid in (own, SLACKBOT)) for uid in dict.fromkeys(ids)]

    @staticmethod
    def _metadata(key: str | None) -> dict | None:
        return {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}} if key else None

    async def post(self, channel: ChannelRef, message: Message, *, thread: str | None = None,
                   key: str | None = None) -> Posted:
        client = await self._client(channel.workspace)
        async with slack_errors():
            response = await client.chat_postMessage(channel=channel.id, thread_ts=thread,
                                                     metadata=self._metadata(key), **render.message(message))
        posted = Posted(response["channel"], response["ts"])
        for file in message.attachments:
            await self._upload(client, posted.conversation, file, thread)
        return posted

    @staticmethod
    async def _upload(client: AsyncWebClient, channel: str, file: File, thread: str | None) -> None:
        """Share a file in the channel right after its message, with Slack's external upload flow
        (files.getUploadURLExternal, the upload, files.completeUploadExternal with channel_id). The
        message is already posted, so a failed upload is logged, not retried: a retry would post the
        message twice."""
        try:
            await client.files_upload_v2(channel=channel, content=file.content, filename=file.name,
                                         title=file.alt, alt_txt=file.alt, thread_ts=thread, request_file_info=False)
        except Exception:  # noqa: BLE001 - see above: the message stands without its file
            log.warning("could not upload %s to %s", file.name, channel, exc_info=True)

    async def permalink(self, posted: Posted, *, workspace: WorkspaceRef) -> str | None:
        """A link to a posted message (the digest links each round's thread)."""
        client = await self._client(workspace)
        async with slack_errors():
            response = await client.chat_getPermalink(channel=posted.conversation, message_ts=posted.id)
        return response.get("permalink")

    async def pin(self, channel: ChannelRef, posted: Posted) -> None:
        """Pin a message in its channel (pins.add): the team agreement stays at hand."""
        client = await self._client(channel.workspace)
        async with slack_errors():
            await client.pins_add(channel=posted.conversation, timestamp=posted.id)

    async def is_channel_admin(self, channel: ChannelRef, person: PersonRef) -> bool:
        """Slack's Web API doesn't name a channel's managers: a workspace admin or owner counts."""
        client = await self._client(person.workspace)
        async with slack_errors():
            user = (await client.users_info(user=person.id))["user"]
        return bool(user.get("is_admin") or user.get("is_owner"))

    async def publish_home(self, person: PersonRef, view: Message) -> None:
        """The person's App Home tab (views.publish)."""
        client = await self._client(person.workspace)
        async with slack_errors(dm=True):
            await client.views_publish(user_id=person.id, view={
                "type": "home", "blocks": render.blocks(view.blocks, HOME_BLOCKS_MAX)})

    async def notice(self, person: PersonRef, notice: Notice, *, channel: str | None = None) -> None:
        """A notice only `person` sees (`show_notice`), from a job: e.g. where their answers went."""
        await show_notice(await self._client(person.workspace), person, channel, notice)

    async def update(self, posted: Posted, message: Message, *, workspace: WorkspaceRef) -> None:
        client = await self._client(workspace)
        async with slack_errors():
            await client.chat_update(channel=posted.conversation, ts=posted.id, **render.message(message))

    async def send_dm(self, person: PersonRef, message: Message, *, key: str | None = None) -> Posted:
        client = await self._client(person.workspace)
        async with slack_errors(dm=True):
            response = await client.chat_postMessage(channel=person.id, metadata=self._metadata(key),
                                                     **render.message(message))
        posted = Posted(response["channel"], response["ts"])
        for file in message.attachments:
            await self._upload(client, posted.conversation, file, None)
        return posted

    async def find_sent(self, where: ChannelRef | PersonRef, key: str, *, thread: str | None = None) -> Posted | None:
        """Look through the latest messages (one page: for apps outside the Marketplace Slack allows
        one history call a minute) for the one carrying this job key in its metadata."""
        client = await self._client(where.workspace)
        async with slack_errors(dm=isinstance(where, PersonRef)):
            if isinstance(where, PersonRef):
                channel = (await client.conversations_open(users=where.id))["channel"]["id"]
            else:
                channel = where.id
            if thread:
                response = await client.conversations_replies(channel=channel, ts=thread, limit=100,
                                                              include_all_metadata=True)
            else:
                response = await client.conversations_history(channel=channel, limit=100,
                                                              include_all_metadata=True)
        for item in response.get("messages") or []:
            metadata = item.get("metadata") or {}
            if metadata.get("event_type") == OUTBOX_EVENT and (metadata.get("event_payload") or {}).get("key") == key:
                return Posted(channel, item["ts"])
        return None


async def show_notice(client: AsyncWebClient, person: PersonRef, channel: str | None,
                      notice: Notice | Message) -> None:
    """An ephemeral message only `person` sees: in `channel` when they are in it, else in their DM
    with the app. A notice that can't be shown is logged, never raised."""
    arguments = render.notice(notice) if isinstance(notice, Notice) else render.message(notice)
    try:
        if channel:
            try:
                await client.chat_postEphemeral(channel=channel, user=person.id, **arguments)
                return
            except SlackApiError as error:
                log.info("ephemeral in %s failed (%s); using the DM", channel, error.response.get("error"))
        dm = (await client.conversations_open(users=person.id))["channel"]["id"]
        await client.chat_postEphemeral(channel=dm, user=person.id, **arguments)
    except SlackApiError as error:
        log.warning("could not show a notice to %s: %s", person.id, error.response.get("error"))
