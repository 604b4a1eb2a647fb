"""The App Home follows the rounds, end to end: the real `unmeet serve` and `unmeet jobs run-due`
against the loopback fake Slack API. A Home is published again when a round reaches the person, when
they answer it and when it closes — only for people who have opened their Home, so nobody else costs a
views.publish."""

from __future__ import annotations

from datetime import timedelta

import pytest
import pytest_asyncio

from core.domain.rounds import deadline_instant
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving
from tests.slack_app.test_round import DEADLINE, TZ, answer, share

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        for uid, name in (("U1", "Lotte Peeters"), ("U2", "Ann Smith"), ("U3", "Bart Jansens"),
                          ("U4", "Chris Evans")):
            slack.add_user(uid, name.split()[0].lower(), name)
        slack.add_channel("C1", "team", members=["U1", "U2", "U3", "U4"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


def published(slack: FakeSlackApi, user: str) -> list[dict]:
    """Every Home view published for `user`, oldest first."""
    return [c.params["view"] for c in slack.calls_to("views.publish") if c.ok and c.params.get("user_id") == user]


def button_values(view: dict, action_id: str) -> list[str]:
    return [e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e.get("action_id") == action_id]


async def test_home_follows_a_round_from_reaching_people_to_closing(server):
    slack = server.slack
    for user in ("U1", "U2"):  # U3 and U4 never open their Home
        status, _ = await server.post(slack_requests.event({"type": "app_home_opened", "user": user, "tab": "home"},
                                                           event_id=f"EvHome{user}"))
        assert status == 200
    await slack.wait_for(lambda: published(slack, "U1") and published(slack, "U2"))
    assert button_values(published(slack, "U2")[-1], "round.answer") == []

    round_id = await share(server, "C1", title="Home follows")
    # The questions reach U2: their Home lists the round to answer. The author's lists it as theirs.
    await slack.wait_for(lambda: round_id in button_values(published(slack, "U2")[-1], "round.answer"))
    await slack.wait_for(lambda: round_id in button_values(published(slack, "U1")[-1], "llm.summarise_now"))
    await slack.wait_for(lambda: slack.dms("U3") and slack.dms("U4"))
    assert slack.dms("U2")  # the refresh came with the DM

    # At the deadline the round closes: both Homes are published again, without it.
    await server.run_due(deadline_instant(DEADLINE, TZ) + timedelta(minutes=1))
    assert round_id not in button_values(published(slack, "U2")[-1], "round.answer")
    assert round_id not in button_values(published(slack, "U1")[-1], "llm.summarise_now")
    # Once per moment: opened, reached (U2) or shared (U1), closed. Nothing for who never looked.
    assert (len(published(slack, "U1")), len(published(slack, "U2"))) == (3, 3)
    assert published(slack, "U3") == published(slack, "U4") == []


async def test_answering_takes_the_round_off_the_home(server):
    """The answer request only stores the answer; the Home is published by the worker afterwards."""
    slack = server.slack
    round_id = await share(server, "C1", title="Answer from the Home")
    await slack.wait_for(lambda: round_id in button_values(published(slack, "U2")[-1], "round.answer"))
    before = len(published(slack, "U2"))

    assert await answer(server, "U2", round_id, "C1", ("One", "Two", "Three")) in (None, {"response_action": "clear"})
    await slack.wait_for(lambda: len(published(slack, "U2")) > before)
    assert round_id not in button_values(published(slack, "U2")[-1], "round.answer")
    # Answering again publishes again (the refresh is re-armed), never for someone who never looked.
    await answer(server, "U2", round_id, "C1", ("One", "Two", "Three, changed"))
    await slack.wait_for(lambda: len(published(slack, "U2")) > before + 1)
    assert published(slack, "U3") == []
