"""Inbound activities shaped like the ones Teams posts to a bot's `/api/messages`.

Field names and nesting follow what Teams sends (camelCase JSON, `channelData` with team,
channel and tenant, mention entities, `a:` ids for personal chats, `19:...@thread.tacv2`
channel ids with `;messageid=` for a thread), so the bot under test parses real payloads.
`post_activity` sends one over real HTTP, as the Bot Connector does.
"""

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import aiohttp

from tests.fakes.bot_connector import DEFAULT_TENANT_ID

BOT_ID = "28:00000000-0000-0000-0000-00000000b07"
BOT_NAME = "unmeet"
TEAM_ID = "19:team-unmeet-0001@thread.tacv2"
TEAM_NAME = "Product team"
TEAM_AAD_GROUP_ID = "00000000-0000-4000-8000-0000000a11ce"
CHANNEL_ID = "19:channel-reflections-0001@thread.tacv2"

_ids = itertools.count(1_600_000_000_001)


@dataclass(frozen=True)
class Person:
    """A Teams user: `id` is the bot-specific `29:` id, `aad_object_id` the Entra object id."""

    name: str
    id: str = field(default_factory=lambda: f"29:1{uuid.uuid4().hex}")
    aad_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    locale: str = "en-US"

    def account(self) -> dict:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def member(self) -> dict:
        """The roster entry for FakeBotConnector.add_team / add_chat."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id, "locale": self.locale}


def personal_conversation_id(person: Person) -> str:
    """Same form as FakeBotConnector gives a created 1:1 chat, as Teams reuses the id."""
    return f"a:1:{person.id}"


def channel_message(
    service_url: str,
    text: str,
    *,
    sender: Person,
    mention_bot: bool = True,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
    thread_root_id: str | None = None,
    tenant_id: str = DEFAULT_TENANT_ID,
) -> dict:
    """A message in a team channel; `mention_bot` prefixes `<at>unmeet</at>` as Teams does.

    A new post starts its own thread (conversation id `<channel>;messageid=<its id>`); with
    `thread_root_id` it is a reply in that thread.
    """
    activity_id = _next_id()
    root = thread_root_id or activity_id
    entities = [_client_info(sender)]
    if mention_bot:
        mention_text = f"<at>{BOT_NAME}</at>"
        text = f"{mention_text} {text}"
        entities.insert(
            0, {"type": "mention", "text": mention_text, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
        )
    activity = _base(
        "message",
        service_url,
        sender,
        activity_id,
        conversation={
            "isGroup": True,
            "conversationType": "channel",
            "id": f"{channel_id};messageid={root}",
            "tenantId": tenant_id,
        },
        channel_data=_team_channel_data(team_id, channel_id, tenant_id),
    )
    activity.update(text=text, textFormat="plain", entities=entities)
    if thread_root_id:
        activity["replyToId"] = thread_root_id
    return activity


def personal_message(
    service_url: str, text: str, *, sender: Person, tenant_id: str = DEFAULT_TENANT_ID
) -> dict:
    """A message in the 1:1 chat between `sender` and the bot."""
    activity = _base(
        "message",
        service_url,
        sender,
        _next_id(),
        conversation={
            "conversationType": "personal",
            "id": personal_conversation_id(sender),
            "tenantId": tenant_id,
        },
        channel_data={"tenant": {"id": tenant_id}},
    )
    activity.update(text=text, textFormat="plain", entities=[_client_info(sender)])
    return activity


def card_submit(
    service_url: str,
    value: dict,
    *,
    sender: Person,
    reply_to_id: str,
    conversation_id: str | None = None,
    tenant_id: str = DEFAULT_TENANT_ID,
) -> dict:
    """An Adaptive Card `Action.Submit`: a message with `value` and no text.

    `reply_to_id` is the id of the card's message; the conversation defaults to the sender's
    personal chat.
    """
    conversation_id = conversation_id or personal_conversation_id(sender)
    personal = conversation_id.startswith("a:")
    activity = _base(
        "message",
        service_url,
        sender,
        _next_id(),
        conversation={
            "conversationType": "personal" if personal else "channel",
            "id": conversation_id,
            "tenantId": tenant_id,
            **({} if personal else {"isGroup": True}),
        },
        channel_data={
            "tenant": {"id": tenant_id},
            "source": {"name": "message"},
            "legacy": {"replyToId": reply_to_id},
        },
    )
    activity.update(value=value, replyToId=reply_to_id, entities=[_client_info(sender)])
    return activity


def bot_added_to_team(
    service_url: str, *, added_by: Person, team_id: str = TEAM_ID, tenant_id: str = DEFAULT_TENANT_ID
) -> dict:
    """conversationUpdate: the app was installed in a team (the bot joins General)."""
    return _team_update(service_url, added_by, team_id, tenant_id, "teamMemberAdded",
                        membersAdded=[{"id": BOT_ID}])


def members_added(
    service_url: str, members: list[Person], *, added_by: Person, team_id: str = TEAM_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
) -> dict:
    """conversationUpdate: people joined the team."""
    return _team_update(service_url, added_by, team_id, tenant_id, "teamMemberAdded",
                        membersAdded=[{"id": m.id, "aadObjectId": m.aad_object_id} for m in members])


def members_removed(
    service_url: str, members: list[Person], *, removed_by: Person, team_id: str = TEAM_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
) -> dict:
    """conversationUpdate: people left (or were removed from) the team."""
    return _team_update(service_url, removed_by, team_id, tenant_id, "teamMemberRemoved",
                        membersRemoved=[{"id": m.id, "aadObjectId": m.aad_object_id} for m in members])


async def post_activity(bot_url: str, activity: dict, token: str | None = None) -> tuple[int, Any]:
    """POST `activity` to the bot as the channel does; returns (status, JSON body or text)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.post(bot_url, json=activity, headers=headers) as response:
            text = await response.text()
            try:
                body = await response.json(content_type=None) if text else None
            except ValueError:
                body = text
            return response.status, body


def _team_update(service_url, actor, team_id, tenant_id, event_type, **members) -> dict:
    activity = _base(
        "conversationUpdate",
        service_url,
        actor,
        _next_id(),
        conversation={"isGroup": True, "conversationType": "channel", "id": team_id, "tenantId": tenant_id},
        channel_data={**_team_channel_data(team_id, team_id, tenant_id), "eventType": event_type},
    )
    activity.update(members)
    return activity


def _base(kind, service_url, sender: Person, activity_id, *, conversation, channel_data) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "type": kind,
        "id": activity_id,
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "localTimestamp": now.isoformat(timespec="milliseconds"),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender.account(),
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": channel_data,
        "locale": sender.locale,
    }


def _team_channel_data(team_id: str, channel_id: str, tenant_id: str) -> dict:
    return {
        "teamsChannelId": channel_id,
        "teamsTeamId": team_id,
        "channel": {"id": channel_id},
        "team": {"id": team_id, "name": TEAM_NAME, "aadGroupId": TEAM_AAD_GROUP_ID},
        "tenant": {"id": tenant_id},
    }


def _client_info(sender: Person) -> dict:
    return {"type": "clientInfo", "locale": sender.locale, "platform": "Web", "timezone": "Europe/Brussels"}


def _next_id() -> str:
    return str(next(_ids))
