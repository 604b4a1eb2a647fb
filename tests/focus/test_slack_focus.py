"""Focus time and the meeting check on Slack, end to end: the real `unmeet serve` over real HTTP,
signed requests, and the loopback fake of the Slack Web API (user tokens, OAuth, DND included)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.jobs import queue
from core.persistence.tables import jobs
from core.persistence.tables_focus import meeting_checks, user_tokens
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving, submission
from tests.slack_app.test_round import answer_button, share, texts

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        for uid, name in (("U1", "Ann"), ("U2", "Bart"), ("U3", "Chris"), ("U4", "Dirk")):
            slack.add_user(uid, name.lower(), name)
        slack.add_user("U5", "eva", "Eva", locale="nl-BE")
        slack.add_channel("C1", "team", members=["U1", "U2", "U3", "U4", "U5"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET,
                           UNMEET_SLACK_CLIENT_ID=slack.client_id,
                           UNMEET_SLACK_CLIENT_SECRET=slack.client_secret) as running:
            yield running


def button(message: dict, action_id: str) -> dict:
    for block in message.get("blocks") or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button in {texts(message)}")


async def focus(server, user: str, text: str) -> dict:
    """Type `/focus text`; return the ephemeral reply."""
    before = len(server.slack.ephemerals)
    status, _ = await server.post(slack_requests.slash_command("/focus", text, user_id=user, channel_id="C1",
                                                               trigger_id=server.slack.new_trigger_id(user)))
    assert status == 200
    await server.slack.wait_for(lambda: len(server.slack.ephemerals) > before)
    return server.slack.ephemerals[-1]


async def oauth(server, **query) -> tuple[int, str]:
    async with server.session.get(f"{server.url}/slack/oauth_redirect", params=query) as response:
        return response.status, await response.text()


async def token_rows(server) -> dict:
    async with server.db.transaction() as conn:
        return dict((await conn.execute(sa.select(user_tokens.c.member_id, user_tokens.c.token_encrypted))).all())


async def connect(server, user: str, token: str) -> None:
    reply = await focus(server, user, "connect")
    url = button(reply, "focus.connect")["url"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://slack.com/oauth/v2/authorize?")
    assert query["user_scope"] == ["users.profile:write,dnd:write"] and query["client_id"] == ["111.222"]
    server.slack.add_oauth_code(f"code-{user}", user, token)
    status, page = await oauth(server, state=query["state"][0], code=f"code-{user}")
    assert status == 200 and "Connected" in page
    status, _ = await oauth(server, state=query["state"][0], code=f"code-{user}")  # a state works once
    assert status == 400


async def session_of(server, user: str):
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.text(
            "SELECT s.ends_at, s.ended_by FROM focus_sessions s JOIN members m ON m.id = s.member_id "
            "WHERE m.external_id = :u ORDER BY s.id DESC LIMIT 1"), {"u": user})).one()


def aware(value) -> datetime:
    value = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


async def test_oauth_callback_with_a_missing_or_wrong_state_stores_nothing(server):
    server.slack.add_oauth_code("stolen", "U4", "xoxp-stolen")
    for query in ({"code": "stolen"}, {"state": "made-up", "code": "stolen"}, {"state": "", "code": "stolen"}):
        status, page = await oauth(server, **query)
        assert status == 400 and "expired" in page
    assert server.slack.calls_to("oauth.v2.access") == []
    assert await token_rows(server) == {}


async def test_focus_sets_status_and_dnd_with_the_user_token_then_stop_clears(server):
    slack = server.slack
    await connect(server, "U1", "xoxp-u1-very-secret")
    stored = list((await token_rows(server)).values())
    assert len(stored) == 1 and "xoxp" not in stored[0] and "very-secret" not in stored[0]
    reply = await focus(server, "U1", "1h30 writing the Q3 plan")
    assert "writing the Q3 plan" in texts(reply) and "Your status shows it" in texts(reply)
    await slack.wait_for(lambda: slack.calls_to("dnd.setSnooze"))
    [profile] = slack.calls_to("users.profile.set")
    [snooze] = slack.calls_to("dnd.setSnooze")
    assert profile.token == snooze.token == "xoxp-u1-very-secret"
    ends_at, _ = await session_of(server, "U1")
    assert profile.params["profile"]["status_expiration"] == int(aware(ends_at).timestamp())
    assert profile.params["profile"]["status_text"].startswith("Focus time until ")
    assert profile.params["profile"]["status_emoji"] == ":headphones:"
    assert int(snooze.params["num_minutes"]) == 90
    assert slack.profile("U1")["status_text"].startswith("Focus time until") and "U1" in slack.dnd_until

    stopped = await focus(server, "U1", "stop")
    assert "Focus session ended" in texts(stopped)
    await slack.wait_for(lambda: slack.calls_to("dnd.endSnooze"))
    await slack.wait_for(lambda: slack.profile("U1")["status_text"] == "")
    assert "U1" not in slack.dnd_until
    assert all(c.token == "xoxp-u1-very-secret" for c in slack.calls_to("dnd.endSnooze"))
    assert (await session_of(server, "U1"))[1] == "stop"


async def test_the_session_ends_by_itself_and_restores_the_status(server):
    slack = server.slack
    await focus(server, "U1", "30 #reactive")
    await slack.wait_for(lambda: "U1" in slack.dnd_until)
    ends_at, _ = await session_of(server, "U1")
    await server.run_due(aware(ends_at) + timedelta(seconds=1))
    assert slack.profile("U1")["status_text"] == "" and "U1" not in slack.dnd_until
    assert (await session_of(server, "U1"))[1] == "auto"
    assert "xoxp-u1-very-secret" not in server.log()


async def test_without_a_user_token_nothing_is_called_and_the_reply_explains(server):
    before = len(server.slack.calls_to("users.profile.set")) + len(server.slack.calls_to("dnd.setSnooze"))
    reply = await focus(server, "U2", "45m")
    assert "connect your account once" in texts(reply)
    assert button(reply, "focus.connect")["url"].startswith("https://slack.com/oauth/v2/authorize?")
    await focus(server, "U2", "")  # any later work has had time to run
    assert len(server.slack.calls_to("users.profile.set")) + len(server.slack.calls_to("dnd.setSnooze")) == before


@pytest.mark.parametrize("typed, sentence", [
    ("25h", "at most 8 hours"),
    ("0", "0 minutes is over before it starts"),
    ("-20", "can't be negative"),
    ("soon-ish", "Start with how long"),
    ("anderhalf uur", "lengths in words (like \"anderhalf uur\") aren't understood yet"),
])
async def test_bad_input_gets_a_sentence(server, typed, sentence):
    reply = await focus(server, "U4", typed)
    assert sentence in texts(reply)


async def test_dutch_sentences_for_a_dutch_person(server):
    reply = await focus(server, "U5", "25h")
    assert "hoogstens 8 uur" in texts(reply)


async def test_tokens_revoked_drops_only_the_listed_user(server):
    if not await token_rows(server):  # run alone: connect U1 as the earlier test does
        await connect(server, "U1", "xoxp-u1-very-secret")
    await connect(server, "U3", "xoxp-u3")
    assert len(await token_rows(server)) == 2
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}}
    for retry in (None, 1):  # delivered twice: same result
        status, _ = await server.post(slack_requests.event(event, "EvRevoke", retry_num=retry))
        assert status == 200
    for _ in range(100):  # events are handled after the ack
        async with server.db.transaction() as conn:
            left = (await conn.execute(sa.text(
                "SELECT m.external_id FROM user_tokens t JOIN members m ON m.id = t.member_id"))).scalars().all()
        if left != ["U1", "U3"]:
            break
        await asyncio.sleep(0.05)
    assert left == ["U3"]


@pytest.mark.parametrize("status, times", [
    (503, 3),  # as many as slack_sdk retries on its own, and one more: the job's retry posts it
    (429, 4),
])
async def test_tell_my_team_survives_a_slack_hiccup_and_posts_once(server, status, times):
    slack, topic = server.slack, f"the note after a {status}"
    reply = await focus(server, "U3", f"60 {topic}")
    session = button(reply, "focus.tell_team")["value"]
    slack.close_views("U3")
    status_code, _ = await server.post(slack_requests.block_action(
        "focus.tell_team", session, user_id="U3", channel_id="C1", trigger_id=slack.new_trigger_id("U3")))
    assert status_code == 200
    [form] = await slack.wait_for(lambda: slack.open_views("U3"))
    assert form["callback_id"] == "focus.tell_form"
    failed_before = len([c for c in slack.calls_to("chat.postMessage") if c.status == status])
    slack.fail_next("chat.postMessage", status=status, retry_after=1 if status == 429 else None, times=times)
    before = len(slack.ephemerals)
    status_code, _ = await server.post(slack_requests.view_submission(submission(form, {"channel": "C1"}),
                                                                      user_id="U3"))
    assert status_code == 200
    await slack.wait_for(lambda: len(slack.ephemerals) > before)
    assert "I'll post a note in that channel" in texts(slack.ephemerals[-1])

    def notes():
        return [m for m in slack.messages("C1") if topic in texts(m)]

    [note] = await slack.wait_for(notes, timeout=30)
    assert texts(note).startswith("Chris: in focus until")
    assert len([c for c in slack.calls_to("chat.postMessage") if c.status == status]) - failed_before == times
    for _ in range(100):  # the job is marked done just after the post; then nothing more can come
        async with server.db.transaction() as conn:
            state = (await conn.execute(sa.select(jobs.c.status).where(
                jobs.c.key == f"focus.note:{session}:C1"))).scalar_one()
        if state == queue.DONE:
            break
        await asyncio.sleep(0.05)
    assert state == queue.DONE and len(notes()) == 1


async def test_meeting_check_to_a_verdict_and_a_prefilled_share_modal(server):
    slack = server.slack
    status, _ = await server.post(slack_requests.slash_command(
        "/meeting-check", "", user_id="U2", channel_id="C1", trigger_id=slack.new_trigger_id("U2")))
    assert status == 200
    [view] = await slack.wait_for(lambda: slack.open_views("U2"))
    assert view["callback_id"] == "meeting.check"
    status, text = await server.post(slack_requests.view_submission(
        submission(view, {"people": "a few", "agenda": "Weekly status of project X"}), user_id="U2"))
    errors = json.loads(text)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"purpose", "people", "minutes", "decider_known", "readable"}
    assert "whole number" in errors["errors"]["people"]
    status, text = await server.post(slack_requests.view_submission(submission(view, {
        "purpose": "status", "agenda": "Weekly status of project X\nEach team's progress", "people": "8",
        "minutes": "45", "frequency": "weekly", "decider_known": "yes", "readable": "yes"}), user_id="U2"))
    assert status == 200 and json.loads(text) == {"response_action": "clear"}
    [verdict] = await slack.wait_for(lambda: slack.dms("U2"))
    shown = texts(verdict)
    assert "Verdict: go async" in shown and "6 person-hours per meeting, 26 person-hours per month" in shown
    value = button(verdict, "meeting.to_async")["value"]
    slack.close_views("U2")
    status, _ = await server.post(slack_requests.block_action("meeting.to_async", value, user_id="U2",
                                                              channel_id=verdict["channel"] if "channel" in verdict
                                                              else "DU2", trigger_id=slack.new_trigger_id("U2")))
    [share] = await slack.wait_for(lambda: slack.open_views("U2"))
    assert share["callback_id"] == "round.share"
    initial = {b["block_id"]: b["element"].get("initial_value") or b["element"].get("initial_conversation")
               for b in share["blocks"] if b.get("type") == "input"}
    assert initial["title"] == "Weekly status of project X" and "Each team's progress" in initial["text"]
    assert initial["channel"] == "C1"
    async with server.db.transaction() as conn:
        row = (await conn.execute(sa.select(meeting_checks))).one()
    assert (row.verdict, row.person_hours, row.monthly_person_hours) == ("go_async", 6.0, 26.0)
    assert row.converted_at is not None


async def test_message_shortcut_prefills_the_agenda(server):
    slack = server.slack
    slack.close_views("U3")
    status, _ = await server.post(slack_requests.message_shortcut(
        "meeting_check_from_message", {"ts": "1.1", "text": "Can we meet about the <https://x.example|budget>?"},
        user_id="U3", channel_id="C1", trigger_id=slack.new_trigger_id("U3")))
    assert status == 200
    [view] = await slack.wait_for(lambda: slack.open_views("U3"))
    agenda = next(b for b in view["blocks"] if b.get("block_id") == "agenda")
    assert agenda["element"]["initial_value"] == "Can we meet about the <https://x.example|budget>?"


async def reminder_key(server, round_id: str, user: str) -> str:
    async with server.db.transaction() as conn:
        member = (await conn.execute(sa.text("SELECT id FROM members WHERE external_id = :u"), {"u": user})).one()
    return f"remind:{round_id}:{member.id}"


async def due_once(server, key: str, ok) -> datetime | None:
    """The job's due time as soon as `ok(due_at)` holds (the server's worker changes it on its own
    time), or the last one seen after five seconds."""
    for _ in range(100):
        async with server.db.transaction() as conn:
            due_at = (await conn.execute(sa.select(jobs.c.due_at).where(jobs.c.key == key))).scalar_one_or_none()
        due_at = due_at and aware(due_at)
        if due_at is not None and ok(due_at):
            break
        await asyncio.sleep(0.05)
    return due_at


def reminders(server, user: str, title: str) -> list[dict]:
    return [m for m in server.slack.dms(user) if "A gentle reminder" in texts(m) and title in texts(m)]


async def test_a_reminder_held_back_during_focus_arrives_after_the_session(server):
    """U2's session runs out by itself (the end job, via run-due); U4 stops theirs early, and the
    running server lets the held reminder go at once. Each gets the reminder exactly once."""
    slack, title = server.slack, "Held back"
    round_id = await share(server, "C1", title=title)
    keys = {user: await reminder_key(server, round_id, user) for user in ("U2", "U4")}
    for user, key in keys.items():
        assert await due_once(server, key, lambda due_at: True) is not None, user  # queued after the DM
        await focus(server, user, "90 reading")
    ends = {user: aware((await session_of(server, user))[0]) for user in keys}

    # The reminder's time comes during the session. The server runs on the real clock and reminders
    # fall in working hours (never at a weekend), so the test brings that moment to now rather than
    # waiting for it; the running server's worker then picks the job up by itself.
    async with server.db.transaction() as conn:
        for key in keys.values():
            await queue.reschedule(conn, key, datetime.now(timezone.utc))
    for user, key in keys.items():  # held back until the session's planned end
        assert await due_once(server, key, lambda due_at: due_at == ends[user]) == ends[user], user
    assert reminders(server, "U2", title) == [] and reminders(server, "U4", title) == []

    # Stopping early lets the held reminder go now, from the running server.
    await focus(server, "U4", "stop")
    await slack.wait_for(lambda: reminders(server, "U4", title))
    assert reminders(server, "U2", title) == []  # U2 is still in focus

    # U2's session ends by itself: the end job and the held reminder are both due then. Nothing
    # is sent twice, to U4 either, whose reminder already went.
    await server.run_due(max(ends.values()) + timedelta(seconds=1))
    assert (await session_of(server, "U2"))[1] == "auto"
    [reminder] = reminders(server, "U2", title)
    assert answer_button(reminder)["value"] == round_id
    assert len(reminders(server, "U4", title)) == 1


async def test_a_note_slack_refuses_for_good_is_not_retried_and_the_person_is_told(server):
    """The app was removed from the channel between the form and the post: `not_in_channel` can't be
    mended by retrying, so the job fails at once and the person hears so straight away."""
    slack, topic = server.slack, "the note to a channel that shut us out"
    reply = await focus(server, "U4", f"30 {topic}")
    session = button(reply, "focus.tell_team")["value"]
    slack.close_views("U4")
    await server.post(slack_requests.block_action(
        "focus.tell_team", session, user_id="U4", channel_id="C1", trigger_id=slack.new_trigger_id("U4")))
    [form] = await slack.wait_for(lambda: slack.open_views("U4"))
    dms_before = len(slack.dms("U4"))
    slack.fail_next("chat.postMessage", error="not_in_channel")
    await server.post(slack_requests.view_submission(submission(form, {"channel": "C1"}), user_id="U4"))
    told = await slack.wait_for(lambda: slack.dms("U4")[dms_before:])
    assert button(told[-1], "focus.tell_team") is not None
    for _ in range(100):  # the person is told just before the job is marked dead
        async with server.db.transaction() as conn:
            state, attempts = (await conn.execute(sa.select(jobs.c.status, jobs.c.attempts).where(
                jobs.c.key == f"focus.note:{session}:C1"))).one()
        if state != queue.PENDING:
            break
        await asyncio.sleep(0.05)
    assert (state, attempts) == (queue.DEAD, 1)
    assert not [m for m in slack.messages("C1") if topic in texts(m)]
