"""LLM help on Slack, end to end: the real `unmeet serve` and `jobs run-due` over HTTP, with the
loopback fakes of the Slack Web API and of an OpenAI-compatible endpoint."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
import pytest_asyncio

from core.domain.refs import WorkspaceRef
from core.domain.rounds import deadline_instant
from core.persistence import llm as llm_store
from core.persistence import repository as repo
from tests.fakes import slack_requests
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving, submission
from tests.slack_app.test_round import answer, markup, open_share_form, replies, seed, share, texts, top_level

pytestmark = pytest.mark.asyncio(loop_scope="module")

TZ = "Europe/Brussels"
FIRST = date.today() + timedelta(days=3)
SECOND = FIRST + timedelta(days=1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeOpenAI() as llm, FakeSlackApi(BOT_TOKEN) as slack:
        seed(slack)
        slack._users["U1"]["locale"] = "en-US"
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET,
                           OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="", UNMEET_LLM_MODEL="fake-model",
                           UNMEET_LLM_TIMEOUT_SECONDS="5") as running:
            running.llm = llm
            yield running


@asynccontextmanager
async def llm_switched_off(server):
    """The workspace admin's switch, as the settings service stores it; back on afterwards."""
    now = datetime.now(timezone.utc)

    async def switch(enabled: bool) -> None:
        async with server.db.transaction() as conn:
            workspace_id = await repo.ensure_workspace(conn, WorkspaceRef("slack", slack_requests.TEAM_ID), now=now)
            await llm_store.save_settings(conn, workspace_id, llm_store.StoredLlmSettings(enabled, None, None), now)

    await switch(False)
    try:
        yield
    finally:
        await switch(True)


def buttons(blocks: list[dict] | None, action: str) -> list[dict]:
    return [e for b in blocks or [] if b.get("type") == "actions" for e in b["elements"] if e["action_id"] == action]


def initial(view: dict) -> dict:
    return {b["block_id"]: b["element"].get("initial_value") or b["element"].get("initial_option", {}).get("value")
            for b in view["blocks"] if b["type"] == "input"}


async def ephemeral_to(server, user: str, after: int, needle: str) -> dict:
    found = await server.slack.wait_for(
        lambda: [e for e in server.slack.ephemerals[after:] if e["user"] == user and needle in texts(e)], timeout=10)
    return found[0]


async def test_draft_with_ai_fills_the_open_share_modal_and_posts_nothing(server):
    slack = server.slack
    view = await open_share_form(server, "U1", "C1")
    [button] = buttons(view["blocks"], "llm.draft")
    assert button["text"]["text"] == "Draft with AI"

    # The lead typed a title, bullets in Text, a link, their own second question and a mode.
    typed = {"title": "Status meetings", "text": "- Deep work, chapter 1\n- why our status meetings go",
             "link": "https://example.org/deep-work", "q2": "My own question?", "share_mode": "anonymous"}
    opened = next(v for v in reversed(slack.views.values()) if v["user_id"] == "U1")  # as Slack holds it
    pressed = {**{k: v for k, v in opened.items() if k != "user_id"}, "state": submission(view, typed)["state"]}
    server.llm.script(Reply(content={"title": "", "post": "Read it in your own time. <!channel>",
                                     "questions": ["Where do you see yourself?", "", "What will you change?"]}))
    posted, updates = len(slack.calls_to("chat.postMessage")), len(slack.calls_to("views.update"))
    status, _ = await server.post(slack_requests.block_action("llm.draft", None, user_id="U1", view=pressed))
    assert status == 200
    await slack.wait_for(lambda: len(slack.calls_to("views.update")) > updates, timeout=10)
    call = slack.calls_to("views.update")[-1]
    assert call.ok, call.error
    drafted = call.params["view"]
    values = initial(drafted)
    assert values["text"].startswith("Read it in your own time.") and "<!channel>" not in values["text"]
    # Kept where the draft has nothing: the title, the second question, the link and the mode.
    assert (values["title"], values["q2"], values["link"], values["share_mode"]) == (
        "Status meetings", "My own question?", "https://example.org/deep-work", "anonymous")
    assert (values["q1"], values["q3"]) == ("Where do you see yourself?", "What will you change?")
    assert buttons(drafted["blocks"], "llm.draft")
    assert "why our status meetings go" in server.llm.requests[-1].user
    assert len(slack.calls_to("chat.postMessage")) == posted  # nothing posted until the lead submits

    # Submitting the drafted modal shares it.
    before = len(top_level(server, "C1"))
    status, body = await server.submit("U1", drafted, {"channel": "C1", "deadline": FIRST.isoformat()})
    assert status == 200 and body in (None, {"response_action": "clear"}), body
    post = (await slack.wait_for(lambda: top_level(server, "C1")[before:], timeout=15))[0]
    assert "What will you change?" in texts(post)


async def test_with_the_llm_switched_off_the_share_modal_has_no_draft_button(server):
    async with llm_switched_off(server):
        view = await open_share_form(server, "U1", "C2")
    assert buttons(view["blocks"], "llm.draft") == []
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"][:3] == ["title", "link", "text"]


async def test_summarise_now_for_the_author_and_linked_quotes_and_why_offline(server):
    slack = server.slack
    seen = len(slack.ephemerals)
    round_id = await share(server, "C3", title="Focus mornings", deadline=FIRST.isoformat())
    shared = await ephemeral_to(server, "U1", seen, "Shared.")
    assert buttons(shared["blocks"], "llm.summarise_now")[0]["value"] == round_id

    # Someone else pressing it gets a polite no; the author, before any answer, is told so.
    seen = len(slack.ephemerals)
    await server.press("U2", round_id, "C3", action="llm.summarise_now")
    await ephemeral_to(server, "U2", seen, "Only the person who shared this round")
    await server.press("U1", round_id, "C3", action="llm.summarise_now")
    await ephemeral_to(server, "U1", seen, "Nobody has answered yet")

    await answer(server, "U2", round_id, "C3", ("Mornings without meetings help me think deeply.",
                                                 "Deep work, shallow work and meetings.",
                                                 "I will block two focus mornings every week."))
    await answer(server, "U3", round_id, "C3", ("Quiet mornings without meetings help me focus.",
                                                 "Planning, building and firefighting.",
                                                 "I will turn off chat until lunch."))
    await slack.wait_for(lambda: len(replies(server, "C3")) == 2, timeout=10)

    # The author's Home lists the round with the button; an answerer's doesn't.
    for user, event_id in (("U1", "EvHomeU1"), ("U2", "EvHomeU2")):
        status, _ = await server.post(slack_requests.event({"type": "app_home_opened", "user": user, "tab": "home"},
                                                           event_id=event_id))
        assert status == 200
    home = await slack.wait_for(lambda: slack.home_views.get("U1"), timeout=10)
    assert round_id in [b["value"] for b in buttons(home["blocks"], "llm.summarise_now")]
    other = await slack.wait_for(lambda: slack.home_views.get("U2"), timeout=10)
    assert buttons(other["blocks"], "llm.summarise_now") == []

    seen = len(slack.ephemerals)
    await server.press("U1", round_id, "C3", action="llm.summarise_now")
    summary = await ephemeral_to(server, "U1", seen, "Summary of the round")
    assert "Written by AI (fake-model)" in texts(summary)
    assert len(replies(server, "C3")) == 2  # only the author saw it

    # At the deadline the model's summary goes in the thread; each quote links to its answer.
    await server.run_due(deadline_instant(FIRST, TZ) + timedelta(minutes=1))
    thread = await slack.wait_for(lambda: [m for m in replies(server, "C3") if "Summary of the round" in texts(m)],
                                  timeout=10)
    answer_links = {f"https://fake.slack.com/archives/C3/p{m['ts'].replace('.', '')}"
                    for m in replies(server, "C3") if "Summary" not in texts(m)}
    linked = set(re.findall(r"<(https://fake\.slack\.com/[^|>]+)\|", markup(thread[0])))
    assert linked and linked <= answer_links
    assert "Written by AI (fake-model)" in texts(thread[0])


async def test_the_offline_summary_says_the_llm_was_switched_off(server):
    slack = server.slack
    round_id = await share(server, "C4", title="Async first", deadline=SECOND.isoformat())
    await answer(server, "U2", round_id, "C4", ("Writing things down saves me a meeting.", "Deep and shallow work.",
                                                "I will write before I call."))
    await slack.wait_for(lambda: len(replies(server, "C4")) == 1, timeout=10)
    async with llm_switched_off(server):
        await server.run_due(deadline_instant(SECOND, TZ) + timedelta(minutes=1))
        thread = await slack.wait_for(
            lambda: [m for m in replies(server, "C4") if "Summary of the round" in texts(m)], timeout=10)
    assert "Summary made without AI, as AI is switched off in this workspace" in texts(thread[0])
    reply_link = f"https://fake.slack.com/archives/C4/p{replies(server, 'C4')[0]['ts'].replace('.', '')}"
    assert f"<{reply_link}|" in markup(thread[0])
