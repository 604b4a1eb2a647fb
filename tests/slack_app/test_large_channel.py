"""A channel of more than 200 members: the author confirms before anyone gets a DM; members come
in several pages."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi, Limit
from tests.slack_app.conftest import BOT_TOKEN, serving
from core.persistence.tables import rounds
from tests.slack_app.test_round import DEADLINE, answer_button, count, open_share_form

pytestmark = pytest.mark.asyncio(loop_scope="module")

PEOPLE = [f"U{n:04d}" for n in range(230)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    fast = Limit(1000, 1000)  # the rate limits are not what this test is about
    async with FakeSlackApi(BOT_TOKEN, post_per_workspace=fast, limits={"users.info": fast}) as slack:
        slack.add_user("U1", "lotte", "Lotte Peeters")
        for uid in PEOPLE:
            slack.add_user(uid, uid.lower(), f"Person {uid}")
        slack.add_channel("CBIG", "everyone", members=["U1", *PEOPLE])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def test_more_than_200_members_asks_first_then_reaches_everyone(server):
    slack = server.slack
    view = await open_share_form(server, "U1", "CBIG")
    status, body = await server.submit("U1", view, {"title": "For everyone", "link": "https://example.org/all",
                                                    "deadline": DEADLINE.isoformat()})
    assert status == 200 and body["response_action"] == "update"
    confirm = body["view"]
    assert "232" in str(confirm["blocks"])  # Slack counts the author and the bot too
    assert slack.calls_to("conversations.members") == []
    assert not any(slack.dms(u) for u in PEOPLE) and slack.messages("CBIG") == []

    status, body = await server.submit("U1", confirm, {})
    assert status == 200
    # The answer to Send comes once the round is confirmed (a stopped server leaves the modal open).
    assert await count(server, rounds, status="open") == 1
    await slack.wait_for(lambda: all(slack.dms(u) for u in PEOPLE), timeout=60)
    assert all(len(slack.dms(u)) == 1 for u in PEOPLE)
    pages = slack.calls_to("conversations.members")
    assert len(pages) >= 2 and pages[1].params.get("cursor")
    post = await slack.wait_for(lambda: [m for m in slack.messages("CBIG") if answer_button(m)])
    assert len(post) == 1
