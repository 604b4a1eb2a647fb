"""The fake Bot Connector speaks what botbuilder 4.17 sends.

Driven through botbuilder's own ConnectorClient and a real CloudAdapter with a tiny echo bot,
over real HTTP on loopback, with no app id (anonymous), as against the Agents Playground.
"""

import asyncio

import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationParameters
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException
from botframework.connector.teams import TeamsConnectorClient

from tests.fakes.bot_connector import DEFAULT_TENANT_ID, FakeBotConnector
from tests.fakes.teams_activities import (
    BOT_ID,
    CHANNEL_ID,
    TEAM_ID,
    Person,
    card_submit,
    channel_message,
    personal_conversation_id,
    personal_message,
    post_activity,
)

ANN = Person("Ann Peeters", locale="nl-BE")
BOB = Person("Bob Jansen")


class _AnonymousConfig:
    """No app id: botbuilder skips JWT checks and sends without a token (local/dev only)."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(TeamsActivityHandler):
    """Echoes text without the bot mention; acknowledges card submits with their keys."""

    def __init__(self) -> None:
        self.values: list[dict] = []
        self.references = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self.references.append(TurnContext.get_conversation_reference(activity))
        if activity.value is not None:
            self.values.append(activity.value)
            await turn_context.send_activity(f"got {', '.join(sorted(activity.value))}")
            return
        text = TurnContext.remove_recipient_mention(activity) or ""
        await turn_context.send_activity(f"echo: {text.strip()}")


@pytest.fixture
async def connector():
    async with FakeBotConnector(speedup=20) as bc:
        bc.add_team(TEAM_ID, members=[ANN.member(), BOB.member()] + [{"name": f"P{i}"} for i in range(5)],
                    channels=[{"id": CHANNEL_ID, "name": "Reflections"}], name="Product team")
        yield bc


@pytest.fixture
async def bot_server():
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_AnonymousConfig()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    yield url, adapter, bot
    await runner.cleanup()


def _client(bc: FakeBotConnector) -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials("", ""), base_url=bc.service_url)


async def test_channel_mention_gets_a_thread_reply(connector, bot_server):
    url, _, _ = bot_server
    inbound = channel_message(connector.service_url, "share insight", sender=ANN)

    status, _ = await post_activity(url, inbound)

    assert status in (200, 201)
    thread = inbound["conversation"]["id"]
    [reply] = await connector.wait_for(lambda: connector.activities(thread))
    assert reply["text"] == "echo: share insight"
    assert reply["replyToId"] == inbound["id"]
    assert thread.startswith(CHANNEL_ID + ";messageid=")
    # The id's ':', '@', ';' and '=' travelled percent-encoded and were decoded on arrival.
    assert connector.requests[-1].path == f"/v3/conversations/{thread}/activities/{inbound['id']}"
    assert connector.requests[-1].authorization is None


async def test_card_submit_reaches_the_bot_with_its_value(connector, bot_server):
    url, _, bot = bot_server
    inbound = card_submit(connector.service_url, {"answer": "Fewer meetings", "round": "r1"},
                          sender=BOB, reply_to_id="1700000000099")

    await post_activity(url, inbound)

    chat = personal_conversation_id(BOB)
    [reply] = await connector.wait_for(lambda: connector.activities(chat))
    assert bot.values == [{"answer": "Fewer meetings", "round": "r1"}]
    assert reply["text"] == "got answer, round"


async def test_create_conversation_then_send_and_update(connector, bot_server):
    _, adapter, _ = bot_server
    sent = {}

    async def first_message(turn_context: TurnContext) -> None:
        response = await turn_context.send_activity("Your reflection round is open")
        sent["id"] = response.id
        sent["conversation"] = turn_context.activity.conversation.id
        await turn_context.update_activity(
            Activity(type=ActivityTypes.message, id=response.id, text="Round closed",
                     conversation=turn_context.activity.conversation)
        )

    params = ConversationParameters(is_group=False, bot=ChannelAccount(id=BOT_ID),
                                    members=[ChannelAccount(id=ANN.id)], tenant_id=DEFAULT_TENANT_ID)
    await adapter.create_conversation("", first_message, params, "msteams", connector.service_url)

    assert sent["conversation"] == f"a:1:{ANN.id}"
    [created] = connector.created_conversations
    assert created["member_id"] == ANN.id and created["tenant_id"] == DEFAULT_TENANT_ID
    [message] = connector.activities(sent["conversation"])
    assert message["id"] == sent["id"]
    assert message["text"] == "Round closed"


async def test_update_of_an_unknown_activity_is_404(connector):
    client = _client(connector)
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.update_activity(
            f"a:1:{ANN.id}", "123", Activity(type="message", text="x")
        )
    assert caught.value.response.status_code == 404


async def test_blocked_member_and_failed_create_answer_like_teams(connector, bot_server):
    _, adapter, _ = bot_server
    connector.block_member(ANN.id)
    connector.fail_create(BOB.id, status=404, code="ConversationNotFound")

    async def never(turn_context):
        raise AssertionError("callback must not run when creation fails")

    for person, status, code in ((ANN, 403, "MessageWritesBlocked"), (BOB, 404, "ConversationNotFound")):
        params = ConversationParameters(is_group=False, members=[ChannelAccount(id=person.id)],
                                        tenant_id=DEFAULT_TENANT_ID)
        with pytest.raises(ErrorResponseException) as caught:
            await adapter.create_conversation("", never, params, "msteams", connector.service_url)
        assert caught.value.response.status_code == status
        assert caught.value.error.error.code == code

    # A 1:1 chat that already exists (the person wrote first) is blocked for sends too.
    with pytest.raises(ErrorResponseException) as caught:
        await _client(connector).conversations.send_to_conversation(
            f"a:1:{ANN.id}", Activity(type="message", text="hi"))
    assert caught.value.error.error.code == "MessageWritesBlocked"


async def test_paged_members_through_teams_info(connector, bot_server):
    url, adapter, bot = bot_server
    await post_activity(url, channel_message(connector.service_url, "hi", sender=ANN))
    await connector.wait_for(lambda: bot.references)
    names, token, pages = [], None, 0

    async def roster(turn_context: TurnContext) -> None:
        nonlocal token, pages
        while True:
            # A proactive turn has no channelData, so the team id must be passed in.
            page = await TeamsInfo.get_paged_team_members(turn_context, TEAM_ID, token, page_size=3)
            pages += 1
            names.extend(m.name for m in page.members)
            token = page.continuation_token
            if not token:
                return

    await adapter.continue_conversation(bot.references[0], roster, "")

    assert pages == 3
    assert names[:2] == ["Ann Peeters", "Bob Jansen"] and len(names) == 7
    member = await _client(connector).conversations.get_conversation_member(TEAM_ID, BOB.id)
    assert member.name == "Bob Jansen"
    assert member.aad_object_id == BOB.aad_object_id


class SteppedClock:
    """Time that moves only when the test says so: rate-limit tests do not race the machine."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_thread_rate_limit_answers_429_with_retry_after():
    clock = SteppedClock()
    async with FakeBotConnector(clock=clock) as bc:
        client = _client(bc)
        conversation = f"a:1:{BOB.id}"
        for i in range(7):
            await client.conversations.send_to_conversation(conversation, Activity(type="message", text=str(i)))

        with pytest.raises(ErrorResponseException) as caught:
            await client.conversations.send_to_conversation(conversation, Activity(type="message", text="8th"))

        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "1"
        # Another conversation is not affected; the first one recovers once the second is over,
        # and then meets the next window: 8 per 2 seconds.
        await client.conversations.send_to_conversation(f"a:1:{ANN.id}", Activity(type="message", text="ok"))
        clock.now += 1.0
        await client.conversations.send_to_conversation(conversation, Activity(type="message", text="8th"))
        with pytest.raises(ErrorResponseException) as caught:
            await client.conversations.send_to_conversation(conversation, Activity(type="message", text="9th"))
        assert caught.value.response.status_code == 429
        assert [a["text"] for a in bc.activities(conversation)] == ["0", "1", "2", "3", "4", "5", "6", "8th"]


async def test_speedup_shortens_retry_after(connector):
    client = _client(connector)  # speedup=20: the one-second window lasts 50 ms
    statuses = []
    for i in range(8):
        try:
            await client.conversations.send_to_conversation(f"a:1:{ANN.id}", Activity(type="message", text=str(i)))
            statuses.append(201)
        except ErrorResponseException as exc:
            statuses.append(exc.response.headers["Retry-After"])
    # On a busy machine the window may pass before the 8th send; when it is hit, the wait is short.
    assert all(s == 201 or 0 < float(s) <= 0.05 for s in statuses)


async def test_tenant_limit_spans_conversations():
    async with FakeBotConnector(clock=SteppedClock()) as bc:  # 50 requests per second per tenant
        client = _client(bc)
        statuses = []
        for i in range(51):
            try:
                await client.conversations.send_to_conversation(
                    f"a:1:29:member-{i}", Activity(type="message", text="hi"))
                statuses.append(201)
            except ErrorResponseException as exc:
                statuses.append(exc.response.status_code)
                assert exc.response.headers["Retry-After"] == "1"
    assert statuses == [201] * 50 + [429]


async def test_injected_failures_then_success(connector):
    client = _client(connector)
    connector.fail_next("send", 503, times=2)
    conversation = f"a:1:{ANN.id}"
    codes = []
    for _ in range(3):
        try:
            await client.conversations.send_to_conversation(conversation, Activity(type="message", text="x"))
            codes.append(201)
        except ErrorResponseException as exc:
            codes.append(exc.response.status_code)
    assert codes == [503, 503, 201]
    assert [r.status for r in connector.requests] == [503, 503, 201]
    with pytest.raises(ValueError):
        connector.fail_next("sned", 500)


async def test_personal_message_and_reply_without_limits():
    async with FakeBotConnector(rate_limits=False) as bc:
        client = _client(bc)
        for i in range(20):
            await client.conversations.send_to_conversation(f"a:1:{ANN.id}", Activity(type="message", text=str(i)))
        assert len(bc.activities(f"a:1:{ANN.id}")) == 20
        message = personal_message(bc.service_url, "help", sender=ANN)
        assert message["conversation"]["id"] == f"a:1:{ANN.id}"
        assert message["locale"] == "nl-BE"


async def test_channel_list_and_team_details(connector):
    # botbuilder's TeamsConnectorClient is synchronous (requests): call it off the event loop,
    # or it blocks the loop that serves the fake (TeamsInfo.get_team_channels does exactly that).
    client = TeamsConnectorClient(MicrosoftAppCredentials("", ""), connector.service_url)
    channels = await asyncio.to_thread(client.teams.get_teams_channels, TEAM_ID)
    details = await asyncio.to_thread(client.teams.get_team_details, TEAM_ID)

    assert [(c.id, c.name) for c in channels.conversations] == [(TEAM_ID, None), (CHANNEL_ID, "Reflections")]
    assert details.name == "Product team" and details.aad_group_id
