"""A whole reflection round on Slack, end to end: the real `unmeet serve` over real HTTP, signed
requests as Slack sends them, and the loopback fake of the Slack Web API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.domain.rounds import DEFAULT_QUESTIONS, deadline_instant
from core.persistence.tables import answers, rounds
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

TZ = "Europe/Brussels"
DEADLINE = date.today() + timedelta(days=3)


def seed(slack: FakeSlackApi) -> None:
    slack.add_user("U1", "lotte", "Lotte Peeters", locale="nl-BE")
    for uid, name in (("U2", "Ann Smith"), ("U3", "Bart Jansens"), ("U4", "Chris Evans")):
        slack.add_user(uid, name.split()[0].lower(), name)
    slack.add_user("UB", "otherbot", "Other Bot", is_bot=True)
    slack.add_user("UD", "gone", "Gone Person", deleted=True)
    for channel in ("C1", "C2", "C3", "C4"):
        slack.add_channel(channel, channel.lower(), members=["U1", "U2", "U3", "U4", "UB", "UD", "USLACKBOT"])
    slack.add_user("USLACKBOT", "slackbot", "Slackbot")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        seed(slack)
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


def texts(message: dict) -> str:
    """Everything a person reads in a message: its blocks' texts, buttons included."""
    out = [message.get("text", "")]

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks"))
    return "\n".join(out)


def markup(message: dict) -> str:
    """The texts Slack parses for mentions and links: the notification text and mrkdwn objects
    (plain_text, e.g. a header, is always shown literally)."""
    out = [message.get("text", "")]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks"))
    return "\n".join(out)


def answer_button(message: dict) -> dict | None:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == "round.answer":
                return element
    return None


def top_level(server, channel: str) -> list[dict]:
    return [m for m in server.slack.messages(channel) if m.get("thread_ts", m["ts"]) == m["ts"]]


def replies(server, channel: str) -> list[dict]:
    return [m for m in server.slack.messages(channel) if m.get("thread_ts") not in (None, m["ts"])]


async def open_share_form(server, user: str, channel: str) -> dict:
    before = len(server.slack.calls_to("views.open"))
    status, _ = await server.command(user, channel)
    assert status == 200
    await server.slack.wait_for(lambda: len(server.slack.calls_to("views.open")) > before)
    call = server.slack.calls_to("views.open")[-1]
    assert call.ok, call.error
    return call.params["view"]


async def share(server, channel: str, mode: str = "thread", title: str = "The goal", **values) -> str:
    """Share a round in `channel` as U1; returns the round id from the channel post's button."""
    view = await open_share_form(server, "U1", channel)
    posted = len(top_level(server, channel))
    status, body = await server.submit("U1", view, {"title": title, "link": "https://example.org/story",
                                                    "channel": channel, "deadline": DEADLINE.isoformat(),
                                                    "share_mode": mode, **values})
    assert status == 200 and body in (None, {"response_action": "clear"}), body
    post = await server.slack.wait_for(lambda: [m for m in top_level(server, channel)[posted:] if answer_button(m)],
                                       timeout=15)
    return answer_button(post[0])["value"]


async def answer(server, user: str, round_id: str, where: str, words: tuple[str, str, str]) -> dict | None:
    before = len(server.slack.calls_to("views.open"))
    status, _ = await server.press(user, round_id, where)
    assert status == 200
    await server.slack.wait_for(lambda: len(server.slack.calls_to("views.open")) > before)
    view = server.slack.calls_to("views.open")[-1].params["view"]
    told = len(notices_to(server, user))
    status, body = await server.submit(user, view, dict(zip(("a1", "a2", "a3"), words)))
    assert status == 200
    if body in (None, {"response_action": "clear"}):  # a job stores them, then says where they went
        await server.slack.wait_for(lambda: len(notices_to(server, user)) > told, timeout=15)
    return body


def notices_to(server, user: str) -> list:
    return [c for c in server.slack.calls_to("chat.postEphemeral") if c.params.get("user") == user]


async def count(server, table, **where) -> int:
    async with server.db.transaction() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return (await conn.execute(query)).scalar_one()


async def test_the_whole_round(server):
    slack = server.slack
    # /share-insight opens the modal in the author's language (nl-BE), with the default questions.
    view = await open_share_form(server, "U1", "C1")
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert (initial["q1"], initial["q2"], initial["q3"]) == DEFAULT_QUESTIONS["nl"]
    assert view["title"]["text"] == "Deel een inzicht"
    channel_input = next(b for b in view["blocks"] if b.get("block_id") == "channel")["element"]
    assert channel_input["initial_conversation"] == "C1"

    round_id = await share(server, "C1", title="De <!channel> ronde")
    post = top_level(server, "C1")[0]
    assert "<!channel>" not in markup(post) and "&lt;!channel&gt;" in markup(post)
    assert DEFAULT_QUESTIONS["nl"][0] in texts(post)

    # Every human member except the author gets a DM; bots, Slackbot and deactivated people don't.
    await slack.wait_for(lambda: all(slack.dms(u) for u in ("U2", "U3", "U4")))
    await slack.wait_for(lambda: {c.params.get("user") for c in slack.calls_to("users.info")} >= {"UB", "UD"})
    assert all(answer_button(slack.dms(u)[0])["value"] == round_id for u in ("U2", "U3", "U4"))
    assert slack.dms("U1") == [] and slack.dms("UD") == []
    assert not any(c.params.get("channel") in ("UB", "USLACKBOT", "UBOT") for c in slack.calls_to("chat.postMessage"))

    # Answer from the DM: a modal, then the answers in the thread, attributed.
    assert await answer(server, "U2", round_id, "DU2", ("Eerste", "Tweede <@U123>", "Derde")) in (
        None, {"response_action": "clear"})
    reply = (await slack.wait_for(lambda: replies(server, "C1")))[0]
    assert "Ann Smith" in texts(reply) and "Eerste" in texts(reply)
    assert "<@U123>" not in markup(reply) and "&lt;@U123&gt;" in markup(reply)

    # Answering again updates that reply: never a second copy.
    await answer(server, "U2", round_id, "C1", ("Anders", "Tweede", "Derde"))
    await slack.wait_for(lambda: "Anders" in texts(replies(server, "C1")[0]))
    assert len(replies(server, "C1")) == 1
    assert any(c.params.get("ts") == reply["ts"] for c in slack.calls_to("chat.update"))
    assert await count(server, answers, round_id=int(round_id)) == 1

    # The day before the deadline: one reminder, only to those who haven't answered; twice is still one.
    deadline = deadline_instant(DEADLINE, TZ)
    for _ in range(2):
        await server.run_due(deadline - timedelta(minutes=1))
    for user, expected in (("U2", 1), ("U3", 2), ("U4", 2)):
        assert len(slack.dms(user)) == expected, (user, [texts(m) for m in slack.dms(user)])

    # At the deadline: the summary in the thread, and the post loses its button.
    await server.run_due(deadline + timedelta(minutes=1))
    thread = replies(server, "C1")
    assert len(thread) == 2 and "Anders" in texts(thread[1])
    assert answer_button(top_level(server, "C1")[0]) is None

    # Answer after close: an ephemeral "closed", no modal, nothing stored.
    opened = len(slack.calls_to("views.open"))
    status, _ = await server.press("U3", round_id, "DU3")
    assert status == 200
    ephemeral = await slack.wait_for(lambda: [e for e in slack.ephemerals if e["user"] == "U3"])
    assert "closed" in ephemeral[-1]["text"]
    assert len(slack.calls_to("views.open")) == opened
    assert await count(server, answers, round_id=int(round_id)) == 1


async def test_anonymous_round_shows_no_names(server):
    slack = server.slack
    round_id = await share(server, "C2", mode="anonymous", title="Anoniem")
    await slack.wait_for(lambda: any(answer_button(m) and answer_button(m)["value"] == round_id
                                     for m in slack.dms("U3")))
    await answer(server, "U3", round_id, "DU3", ("Mijn antwoord", "Twee", "Drie"))
    reply = (await slack.wait_for(lambda: replies(server, "C2")))[0]
    assert "Bart" not in texts(reply) and "Mijn antwoord" in texts(reply)
    await server.run_due(deadline_instant(DEADLINE, TZ) + timedelta(minutes=1))
    summary = await slack.wait_for(lambda: replies(server, "C2")[1:])
    assert "Mijn antwoord" in texts(summary[0])
    assert "Bart" not in texts(summary[0]) and "Jansens" not in texts(summary[0])


async def test_author_only_round_goes_to_the_author_until_close(server):
    slack = server.slack
    round_id = await share(server, "C3", mode="author_only", title="Alleen voor mij")
    await slack.wait_for(lambda: any(answer_button(m) and answer_button(m)["value"] == round_id
                                     for m in slack.dms("U4")))
    author_dms = len(slack.dms("U1"))
    await answer(server, "U4", round_id, "DU4", ("Privé", "Twee", "Drie"))
    await slack.wait_for(lambda: len(slack.dms("U1")) > author_dms)
    assert "Privé" in texts(slack.dms("U1")[-1])
    assert replies(server, "C3") == []
    await server.run_due(deadline_instant(DEADLINE, TZ) + timedelta(minutes=1))
    thread = await slack.wait_for(lambda: replies(server, "C3")[1:] and replies(server, "C3"))
    assert "Privé" in texts(thread[0]) and "Chris Evans" in texts(thread[0])
    assert await count(server, rounds, id=int(round_id), status="closed") == 1
