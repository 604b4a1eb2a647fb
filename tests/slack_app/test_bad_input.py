"""Bad and hostile input at `/slack/events` of the real `unmeet serve` (reliability.md 1, 2, 9, 14–16)."""

from __future__ import annotations

import time

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.persistence.tables import answers, jobs, members, rounds
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving
from tests.slack_app.test_round import (DEADLINE, answer, answer_button, count, open_share_form, share, texts,
                                        top_level)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PEOPLE = ("U2", "U3", "U4", "U5", "U6")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        slack.add_user("U1", "lotte", "Lotte Peeters", locale="nl-BE")
        slack.add_user("U9", "eve", "Eve Outsider")
        for uid in PEOPLE:
            slack.add_user(uid, uid.lower(), f"Person {uid}")
        for channel in ("C1", "C2", "C3"):
            slack.add_channel(channel, channel.lower(), members=["U1", *PEOPLE])
        slack.add_channel("C9", "elsewhere", members=["U1", "U9"])
        slack.add_channel("CNOBOT", "no-bot", members=["U1"], bot_is_member=False)
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def table_counts(server) -> tuple[int, ...]:
    return tuple([await count(server, table) for table in (rounds, members, answers)])


@pytest.mark.parametrize("tamper", ["wrong secret", "body changed", "old timestamp", "no signature"])
async def test_unsigned_or_stale_requests_are_refused_and_change_nothing(server, tamper):
    before = await table_counts(server)
    calls = len(server.slack.calls_to("users.info") + server.slack.calls_to("views.open"))
    trigger = server.slack.new_trigger_id("U1")
    if tamper == "wrong secret":
        body, headers = slack_requests.slash_command("/share-insight", user_id="U1", trigger_id=trigger,
                                                     signing_secret="wrong")
    elif tamper == "old timestamp":
        body, headers = slack_requests.slash_command("/share-insight", user_id="U1", trigger_id=trigger,
                                                     timestamp=time.time() - 301)
    else:
        body, headers = slack_requests.slash_command("/share-insight", user_id="U1", trigger_id=trigger)
        if tamper == "body changed":
            body = body.replace(b"user_id=U1", b"user_id=U9")
        else:
            headers = {k: v for k, v in headers.items() if k != "X-Slack-Signature"}
    status, _ = await server.post((body, headers))
    assert status == 401
    assert await table_counts(server) == before
    # No listener ran: not even a users.info. (Other calls may come from the server's own schedules.)
    assert len(server.slack.calls_to("users.info") + server.slack.calls_to("views.open")) == calls


@pytest.mark.parametrize("values, field, sentence", [
    ({"title": ""}, "title", "Vul dit in"),
    ({"title": "x" * 151}, "title", "151"),
    ({"link": "javascript:alert(1)"}, "link", "https://"),
    ({"link": "example.org/story"}, "link", "https://"),
    ({"link": "https://example.org/" + "a" * 10_000}, "link", "2000"),
    ({"link": "", "text": ""}, "link", "link"),
    ({"q2": "   "}, "q2", "Vul dit in"),
    ({"channel": "CNOBOT"}, "channel", "/invite"),
])
async def test_share_form_mistakes_come_back_in_the_persons_language(server, values, field, sentence):
    view = await open_share_form(server, "U1", "C1")
    before = await table_counts(server)
    status, body = await server.submit("U1", view, {"link": "https://example.org/x", "deadline": DEADLINE.isoformat(),
                                                    "title": "Titel", **values})
    assert status == 200
    # `errors` (not `update`): Slack keeps every value the person typed and shows the sentence.
    assert body["response_action"] == "errors" and set(body["errors"]) >= {field}, body
    assert sentence in body["errors"][field]
    assert await count(server, rounds) == before[0]


async def test_answer_mistakes_keep_the_modal(server):
    round_id = await share(server, "C2", title="Bad answers")
    body = await answer(server, "U2", round_id, "C2", ("", "y" * 3001, "ok"))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"a1", "a2"} and "3000" in body["errors"]["a2"]
    assert await count(server, answers, round_id=int(round_id)) == 0


@pytest.mark.parametrize("value", ["", "abc", "-1", "0", "99999999", "1" * 40, "１２", "<!channel>"])
async def test_unknown_round_buttons_get_a_polite_ephemeral(server, value):
    shown = len(server.slack.ephemerals)
    status, _ = await server.press("U2", value, "C1")
    assert status == 200
    notice = (await server.slack.wait_for(lambda: server.slack.ephemerals[shown:]))[0]
    assert notice["user"] == "U2" and notice["channel"] == "C1" and notice["text"]


async def test_foreign_and_unknown_presses_and_forms(server):
    slack = server.slack
    round_id = await share(server, "C3", title="Only C3")
    # Someone outside the audience (not in C3 when it started) gets a sentence, not a modal.
    opened, shown = len(slack.calls_to("views.open")), len(slack.ephemerals)
    assert (await server.press("U9", round_id, "C9"))[0] == 200
    notice = (await slack.wait_for(lambda: slack.ephemerals[shown:]))[0]
    assert "Lotte Peeters" in notice["text"] and len(slack.calls_to("views.open")) == opened
    # An action id, a form and a command nobody knows.
    for request in (slack_requests.block_action("old.feature", "1", user_id="U2", channel_id="C3"),
                    slack_requests.view_submission({"callback_id": "old.form"}, user_id="U2"),
                    slack_requests.slash_command("/unknown", user_id="U2", channel_id="C3")):
        shown = len(slack.ephemerals)
        status, text = await server.post(request)
        assert status == 200, text
        if b"unknown" not in request[0]:
            await slack.wait_for(lambda: slack.ephemerals[shown:])
        else:
            assert "unmeet" in text


async def test_second_clicks_and_submits_store_one_answer(server):
    slack = server.slack
    round_id = await share(server, "C1", title="Twice")
    await answer(server, "U3", round_id, "C1", ("one", "two", "three"))
    await answer(server, "U3", round_id, "C1", ("one", "two", "three"))
    assert await count(server, answers, round_id=int(round_id)) == 1
    await slack.wait_for(lambda: any("one" in texts(m) for m in slack.messages("C1") if m.get("thread_ts")))
    replies = [m for m in slack.messages("C1") if m.get("thread_ts") not in (None, m["ts"]) and "one" in texts(m)]
    assert len(replies) == 1


async def test_rate_limited_fan_out_waits_and_sends_each_dm_once(server):
    slack = server.slack
    slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    started = time.monotonic()
    round_id = await share(server, "C2", title="Rate limited")
    await slack.wait_for(lambda: all(any(answer_button(m) and answer_button(m)["value"] == round_id
                                         for m in slack.dms(u)) for u in PEOPLE), timeout=15)
    assert time.monotonic() - started >= 1  # Retry-After was honoured
    assert [c.status for c in slack.calls_to("chat.postMessage")].count(429) >= 2
    for user in PEOPLE:
        mine = [m for m in slack.dms(user) if answer_button(m) and answer_button(m)["value"] == round_id]
        assert len(mine) == 1, user
    assert len([m for m in top_level(server, "C2") if "Rate limited" in texts(m)]) == 1
    async with server.db.transaction() as conn:
        states = (await conn.execute(sa.select(jobs.c.status).where(jobs.c.key.like(f"%:{round_id}%")))).scalars()
        assert "dead" not in set(states)
