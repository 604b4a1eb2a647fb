"""The digest on Slack, end to end: real `unmeet` processes against the loopback fake Slack API.

Workers are `unmeet jobs run-due --now …` subprocesses (the clock is the instant given), so a test
can stand at any moment of the week.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from core.persistence.db import Database
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.digest.seed import World
from tests.fakes import slack_requests
from tests.fakes.processes import run_due
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import server_env, start_server, stop_server, submission

UTC = timezone.utc
# Friday 4 December 2026; the digest is due at 15:00 in Brussels = 14:00 UTC.
BEFORE = datetime(2026, 12, 4, 13, 30, tzinfo=UTC)
AT = datetime(2026, 12, 4, 14, 0, 30, tzinfo=UTC)


def fake_slack() -> FakeSlackApi:
    slack = FakeSlackApi(rate_limits=False)
    for i in range(1, 5):
        slack.add_user(f"U{i}", f"user{i}", f"User {i}")
    slack.add_channel("C1", "team", members=["U1", "U2", "U3", "U4"])["creator"] = "U1"
    slack.add_channel("C2", "other", members=["U1", "U2"])
    return slack


async def seed(database_url: str, channels=("C1",)) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as conn:
            for channel in channels:
                world = await World(conn, channel=channel, now=BEFORE).setup()
                people = [await world.member(f"U{i}", f"User {i}") for i in (2, 3, 4)]
                await world.round(f"Round in {channel}", created=BEFORE - timedelta(days=3),
                                  deadline=BEFORE + timedelta(days=5), asked=people, post="1700000000.000100",
                                  answered={people[0]: BEFORE - timedelta(days=1)})
    finally:
        await db.dispose()


def worker_env(slack: FakeSlackApi, database_url: str) -> dict:
    return server_env(SLACK_API_URL=slack.base_url, DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test",
                      SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET)


def digests(slack: FakeSlackApi, channel: str) -> list[dict]:
    return [c.params for c in slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel and "Weekly digest" in str(c.params.get("text"))]


async def test_the_digest_arrives_with_its_chart(database_url):
    async with fake_slack() as slack:
        await seed(database_url)
        env = worker_env(slack, database_url)
        await run_due(env, BEFORE)  # the scheduler queues Friday's digest
        assert digests(slack, "C1") == []
        await run_due(env, AT)
        posted, = digests(slack, "C1")
        assert "Round in C1" in str(posted["blocks"]) and "1 of 3 answered" in str(posted["blocks"])
        assert "User 3" not in str(posted["blocks"])  # no names of people who did not answer
        complete, = slack.calls_to("files.completeUploadExternal")
        assert complete.params["channel_id"] == "C1"
        chart, = slack.files.values()
        assert chart.channel == "C1" and chart.content.startswith(b"\x89PNG")
        assert [c.params["message_ts"] for c in slack.calls_to("chat.getPermalink")] == ["1700000000.000100"]
        await run_due(env, AT + timedelta(hours=2))  # later the same week: nothing more
        assert len(digests(slack, "C1")) == 1


@pytest.mark.postgres
async def test_three_workers_racing_post_one_digest_per_channel():
    require_postgres()
    url = await create_pg_database()
    try:
        from core.persistence.migrate import upgrade

        await asyncio.to_thread(upgrade, url)
        async with fake_slack() as slack:
            await seed(url, channels=("C1", "C2"))
            env = worker_env(slack, url)
            # Three instances start (and schedule) together, then all three reach the digest time.
            await asyncio.gather(*(run_due(env, BEFORE) for _ in range(3)))
            await asyncio.gather(*(run_due(env, AT) for _ in range(3)))
            assert len(digests(slack, "C1")) == 1 and len(digests(slack, "C2")) == 1
            assert len(slack.calls_to("files.completeUploadExternal")) == 2
    finally:
        await drop_pg_database(url)


async def test_home_tab_and_settings_permissions(database_url, tmp_path):
    async with fake_slack() as slack:
        slack._users["U3"]["is_admin"] = True
        server = await start_server(slack, database_url, tmp_path, SLACK_BOT_TOKEN="xoxb-test",
                                    SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET)
        try:
            db = Database(database_url)
            async with db.transaction() as conn:
                world = await World(conn, now=datetime.now(UTC)).setup()
                me = await world.member("U2", "User 2")
                for n in range(60):
                    await world.round(f"Open round {n}", created=datetime.now(UTC),
                                      deadline=datetime.now(UTC) + timedelta(days=3, minutes=n), asked=[me])
            await db.dispose()
            status, _ = await server.post(slack_requests.event({"type": "app_home_opened", "user": "U2",
                                                                "tab": "home"}, event_id="EvHome"))
            assert status == 200
            home = await slack.wait_for(lambda: slack.home_views.get("U2"))
            assert 50 < len(home["blocks"]) < 100
            assert [b for b in home["blocks"] if b["type"] == "actions"][0]["elements"][0]["action_id"] == "round.answer"

            async def settings_by(user: str):
                return await server.post(slack_requests.slash_command(
                    "/unmeet", "settings", user_id=user, channel_id="C1", trigger_id=slack.new_trigger_id(user)))

            await settings_by("U2")  # neither creator nor admin
            await slack.wait_for(lambda: any("Only channel managers" in str(e) for e in slack.ephemerals))
            assert slack.open_views("U2") == []
            for user in ("U1", "U3"):  # the channel's creator; a workspace admin
                await settings_by(user)
                view, = await slack.wait_for(lambda: slack.open_views(user))
                assert view["callback_id"] == "digest.settings"
            admin_view = slack.open_views("U3")[0]
            assert "focus_goal" in str(admin_view) and "focus_goal" not in str(slack.open_views("U1")[0])
            status, answer = await server.submit("U1", slack.open_views("U1")[0], {"tz": "Mars/Olympus"})
            assert answer["response_action"] == "errors" and "tz" in answer["errors"]
            status, answer = await server.submit("U1", slack.open_views("U1")[0],
                                                 {"day": "0", "at": "09:30", "tz": "America/New_York",
                                                  "language": "nl"})
            assert answer is None or answer.get("response_action") == "clear"
            db = Database(database_url)
            async with db.transaction() as conn:
                from core.persistence.digest import find_channel
                from core.domain.refs import ChannelRef, WorkspaceRef

                context = await find_channel(conn, ChannelRef(WorkspaceRef("slack", "T1"), "C1"))
            await db.dispose()
            assert (context.schedule.weekday, f"{context.schedule.at:%H:%M}", context.tz, context.locale) == (
                0, "09:30", "America/New_York", "nl")
        finally:
            await stop_server(server)
