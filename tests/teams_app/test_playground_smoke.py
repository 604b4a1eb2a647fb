"""The Agents Playground recipe works end to end with a botbuilder bot (no app id).

A tiny echo bot stands in for ours: the point is that the Playground starts offline, reaches
the bot, and that messages, Adaptive Cards, Action.Submit, Action.Execute and proactive
sends all travel both ways. Skips when Node.js or node_modules are missing.
"""

import pytest
import pytest_asyncio
from aiohttp import web
from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import AdaptiveCardInvokeResponse

from tests.fakes.cards import assert_valid_card
from tests.fakes.playground import Playground

# One Playground for the module: starting Node takes seconds. Tests share its in-memory
# state, so each looks only at messages that arrived after its own action.
pytestmark = [pytest.mark.node, pytest.mark.asyncio(loop_scope="module")]

CARD = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "What is one thing you will try?", "wrap": True},
        {"type": "Input.Text", "id": "answer", "isMultiline": True},
    ],
    "actions": [
        {"type": "Action.Submit", "title": "Send", "data": {"action": "answer", "round": "r1"}},
        {"type": "Action.Execute", "title": "Close", "verb": "close", "data": {"round": "r1"}},
    ],
}

CLOSED_CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Closed"}]}


class _AnonymousConfig:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class SmokeBot(TeamsActivityHandler):
    """Echo; `card` sends CARD; submits and Action.Execute are recorded and acknowledged."""

    def __init__(self) -> None:
        self.values: list[dict] = []
        self.executes: list[dict] = []
        self.references = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self.references.append(TurnContext.get_conversation_reference(activity))
        if activity.value is not None:
            self.values.append(activity.value)
            await turn_context.send_activity(f"thanks, got {activity.value.get('answer')}")
        elif (TurnContext.remove_recipient_mention(activity) or "").strip() == "card":
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(CARD)))
        else:
            await turn_context.send_activity(f"echo: {TurnContext.remove_recipient_mention(activity).strip()}")

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # botbuilder 4.17.1's CloudAdapter serialises the invoke body with msrest, so it must be
        # a model: a dict body is a 500, and so is returning the model from
        # on_adaptive_card_invoke (the handler serialises it to a dict first).
        if turn_context.activity.name == "adaptiveCard/action":
            self.executes.append(turn_context.activity.value)
            return InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.card.adaptive", value=CLOSED_CARD,
            ))
        return await super().on_invoke_activity(turn_context)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot():
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_AnonymousConfig()))
    smoke = SmokeBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, smoke)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    smoke.url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    smoke.adapter = adapter
    yield smoke
    await runner.cleanup()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pg(bot):
    if not Playground.available():
        pytest.skip(Playground.unavailable_reason())
    async with Playground(bot.url) as playground:
        yield playground


async def test_config_has_the_fixed_ids(pg):
    assert pg.bot_id == "00000000-0000-0000-0000-00000000b07"
    assert pg.bot_name == "unmeet"
    assert len(pg.config["users"]) == 5
    assert pg.channel_id != pg.team_id


async def test_mention_in_a_channel_gets_a_reply_in_the_thread(pg, bot):
    sent = await pg.send(pg.channel_id, "share insight", mention_bot=True)

    thread = sent["postConversationId"]
    assert thread == f"{pg.channel_id};messageid={sent['messageId']}"
    [reply] = await pg.wait_for(lambda: pg.bot_messages(thread))
    assert reply["text"] == "echo: share insight"
    # The log stream may report the inbound activity after the reply.
    [inbound] = await pg.wait_for(
        lambda: [a for a in pg.activities_to_bot() if a["conversation"]["id"] == thread])
    assert inbound["channelData"]["team"]["id"] == pg.team_id
    assert inbound["serviceUrl"] == f"{pg.base_url}/_connector"


async def test_card_submit_and_execute_reach_the_bot(pg, bot):
    assert_valid_card(CARD)
    chat = pg.personal_chat_id
    seen = len(pg.bot_messages(chat))
    await pg.send(chat, "card")
    [card_message] = await pg.wait_for(lambda: pg.bot_messages(chat)[seen:])
    [attachment] = card_message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["version"] == "1.5"

    await pg.submit(chat, card_message["messageId"],
                    {"action": "answer", "round": "r1", "answer": "async standups"})
    [thanks] = await pg.wait_for(lambda: pg.bot_messages(chat)[seen + 1:])
    assert bot.values == [{"action": "answer", "round": "r1", "answer": "async standups"}]
    assert thanks["text"] == "thanks, got async standups"

    result = await pg.invoke(chat, card_message["messageId"],
                             {"action": {"type": "Action.Execute", "verb": "close", "data": {"round": "r1"}}})
    assert bot.executes and bot.executes[0]["action"]["verb"] == "close"
    assert result["value"] == CLOSED_CARD


async def test_proactive_continue_conversation_arrives(pg, bot):
    chat = pg.personal_chat_id
    seen = len(pg.bot_messages(chat))
    await pg.send(chat, "hello")
    await pg.wait_for(lambda: pg.bot_messages(chat)[seen:])

    async def nudge(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Reminder: one question is waiting for you")

    await bot.adapter.continue_conversation(bot.references[-1], nudge, "")

    def new_messages():
        return pg.bot_messages(chat)[seen:]

    [echo, reminder] = await pg.wait_for(lambda: len(new_messages()) == 2 and new_messages())
    assert echo["text"] == "echo: hello"
    assert reminder["text"] == "Reminder: one question is waiting for you"
