"""Durable jobs with real worker processes on PostgreSQL, against the fake Slack Web API.

- two workers racing through a 300-DM fan-out never send one DM twice;
- a worker killed with SIGKILL halfway through the fan-out loses nothing: once its lease expires,
  another worker sends the rest, and the DMs that were in flight are not sent again;
- two schedulers (`unmeet jobs run-due`) racing create one reminder per person.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import ShareInput, deadline_instant
from core.persistence.migrate import upgrade
from core.persistence.tables import jobs
from core.services import rounds
from slack_app import SlackAdapter
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import ROOT, server_env

pytestmark = pytest.mark.postgres

MEMBERS = 300
SECRET = "signing-secret"
DEADLINE = date.today() + timedelta(days=7)


@pytest.fixture
async def pg_url():
    require_postgres()
    url = await create_pg_database()
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_pg_database(url)


@pytest.fixture
async def slack():
    # Rate limits off: this is about who sends what, not pace (the fan-out benchmark and the 429 tests
    # cover pace). The fake still records every call.
    async with FakeSlackApi(rate_limits=False) as fake:
        fake.add_user("ULEAD", "lea", "Lea", tz="Europe/Brussels", locale="en-US")
        people = [f"U{n:04d}" for n in range(MEMBERS)]
        for user in people:
            fake.add_user(user, user.lower(), f"Person {user}", tz="Europe/Brussels")
        fake.add_channel("C1", "team", members=["ULEAD", *people])
        yield fake


async def share_round(url: str, slack: FakeSlackApi) -> None:
    settings = Settings(database_url=url, slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                        slack_api_url=slack.base_url)
    deps = build_deps(settings)
    deps.messengers["slack"] = SlackAdapter(deps).messenger
    author = PersonRef(WorkspaceRef("slack", "T1"), "ULEAD")
    result = await rounds.share_insight(
        deps, author=author,
        data=ShareInput(title="The café story", link="https://example.org/story", questions=("a?", "b?", "c?"),
                        deadline=DEADLINE, channel_id="C1"))
    assert isinstance(result, rounds.Confirm)  # over 200 members: the author confirms first
    assert isinstance(await rounds.confirm_share(deps, author=author, round_id=int(result.form.metadata)),
                      rounds.Done)
    await deps.close()


def worker_env(url: str, slack: FakeSlackApi, **extra: str) -> dict[str, str]:
    return server_env(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                      SLACK_API_URL=slack.base_url, JOB_POLL_SECONDS="0.1", **extra)


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "unmeet", *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


def round_dms(slack: FakeSlackApi) -> Counter:
    """Who got the round's questions, how often (reminders excluded)."""
    counts: Counter = Counter()
    for user in (f"U{n:04d}" for n in range(MEMBERS)):
        counts[user] = sum(1 for message in slack.dms(user) if "Reminder" not in (message.get("text") or ""))
    return counts


async def job_statuses(url: str, prefix: str) -> Counter:
    from core.persistence.db import Database

    db = Database(url)
    try:
        async with db.transaction() as conn:
            rows = (await conn.execute(sa.select(jobs.c.status).where(jobs.c.key.startswith(prefix)))).all()
    finally:
        await db.dispose()
    return Counter(status for (status,) in rows)


async def test_two_workers_never_send_one_dm_twice(pg_url, slack):
    await share_round(pg_url, slack)
    env = worker_env(pg_url, slack)
    workers = [await start(env, "worker"), await start(env, "worker")]
    try:
        await slack.wait_for(lambda: all(round_dms(slack).values()), timeout=120)
        await asyncio.sleep(1.0)  # anything sent twice would arrive by now
    finally:
        for process in workers:
            await stop(process)
    assert set(round_dms(slack).values()) == {1}
    assert await job_statuses(pg_url, "dm:") == Counter(done=MEMBERS)
    # both workers took part: the claims are shared, not serialised behind one of them
    assert len({call.token for call in slack.calls}) == 1 and len(slack.calls_to("chat.postMessage")) > MEMBERS


async def test_sigkill_halfway_through_the_fan_out_loses_and_doubles_nothing(pg_url, slack):
    await share_round(pg_url, slack)
    env = worker_env(pg_url, slack, JOB_LEASE_SECONDS="3")
    first = await start(env, "worker")
    try:
        await slack.wait_for(lambda: sum(round_dms(slack).values()) >= MEMBERS * 2 // 5, timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    sent_before = sum(round_dms(slack).values())
    assert sent_before < MEMBERS, "the first worker finished before it could be killed"
    second = await start(env, "worker")
    try:
        await slack.wait_for(lambda: all(round_dms(slack).values()), timeout=120)
        await asyncio.sleep(1.0)
    finally:
        await stop(second)
    counts = round_dms(slack)
    assert [user for user, n in counts.items() if n == 0] == []
    assert [user for user, n in counts.items() if n > 1] == []
    assert await job_statuses(pg_url, "dm:") == Counter(done=MEMBERS)


async def test_two_schedulers_racing_create_one_reminder_per_person(pg_url, slack):
    await share_round(pg_url, slack)
    env = worker_env(pg_url, slack)
    now = datetime.now(timezone.utc).isoformat()
    racers = [await start(env, "jobs", "run-due", "--now", now) for _ in range(2)]
    assert [await p.wait() for p in racers] == [0, 0]
    assert set(round_dms(slack).values()) == {1}
    assert await job_statuses(pg_url, "remind:") == Counter(pending=MEMBERS)

    # a minute before the deadline: past every reminder, before the close (whatever the time of day now)
    later = (deadline_instant(DEADLINE, "Europe/Brussels") - timedelta(minutes=1)).isoformat()
    deadline_job_due = await job_statuses(pg_url, "close:")
    assert deadline_job_due == Counter(pending=1)
    racers = [await start(env, "jobs", "run-due", "--now", later) for _ in range(2)]
    assert [await p.wait() for p in racers] == [0, 0]
    reminders = Counter()
    for user in (f"U{n:04d}" for n in range(MEMBERS)):
        reminders[user] = sum(1 for message in slack.dms(user) if "Reminder" in (message.get("text") or ""))
    assert set(reminders.values()) == {1}
