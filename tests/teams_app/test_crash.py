"""A Teams DM is not sent twice when the worker sending it dies (issue 12): real `unmeet worker` processes
against the Bot Connector fake, the first killed with SIGKILL while the fake holds the answer to a DM it
has received (the message arrived; the worker never heard back), a second recovering the job once the
first one's lease ran out."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import sqlalchemy as sa

from core.persistence.tables import jobs
from core.persistence.tables_teams import teams_sends
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.processes import clean_env
from tests.fakes.teams_activities import TEAM_ID, personal_conversation_id
from tests.integration.test_jobs_processes import start, stop
from tests.teams_app.conftest import ANN, BOB, CEM, DIRK, share_round_here

ASKED = (BOB, CEM, DIRK)  # everyone but the author


def dm_counts(bc: FakeBotConnector) -> Counter:
    return Counter({p.name: len(bc.activities(personal_conversation_id(p))) for p in ASKED})


async def rows(database_url: str, statement) -> list:
    from core.persistence.db import Database

    db = Database(database_url)
    try:
        async with db.transaction() as conn:
            return (await conn.execute(statement)).all()
    finally:
        await db.dispose()


async def test_a_worker_killed_mid_dm_leaves_every_person_exactly_one(database_url):
    async with FakeBotConnector(rate_limits=False) as bc:
        bc.add_team(TEAM_ID, members=[p.member() for p in (ANN, *ASKED)])
        await share_round_here(database_url, bc)
        bc.hold("send", lambda request: request.path.startswith("/v3/conversations/a:"))  # DMs, not the post
        env = clean_env(DATABASE_URL=database_url, JOB_POLL_SECONDS="0.1", JOB_LEASE_SECONDS="2")
        first = await start({**env, "JOB_CONCURRENCY": "1"}, "worker")  # one job at a time: one DM in flight
        try:
            await bc.wait_for(lambda: bc.held, timeout=30)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        [held] = bc.held
        assert sum(dm_counts(bc).values()) == 1  # it arrived; the others were not begun
        [(key, activity_id)] = await rows(database_url, sa.select(teams_sends.c.key, teams_sends.c.activity_id)
                                          .where(teams_sends.c.conversation_id.startswith("a:")))
        assert key.startswith("dm:") and activity_id is None  # begun, and nobody heard back

        bc.release()
        second = await start(env, "worker")
        try:
            await bc.wait_for(lambda: all(dm_counts(bc).values()), timeout=30)
            statuses = sa.select(jobs.c.key, jobs.c.status, jobs.c.recovered).where(jobs.c.key.startswith("dm:"))
            for _ in range(100):  # the recovered job finishes without a request of its own
                if {status for _, status, _ in await rows(database_url, statuses)} == {"done"}:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # a DM sent twice would have arrived by now
        finally:
            await stop(second)
        assert dm_counts(bc) == Counter({p.name: 1 for p in ASKED})
        assert len([r for r in bc.requests if r.kind == "send" and r.path == held.path]) == 1
        assert {(k, status, recovered) for k, status, recovered in await rows(database_url, statuses)
                if k == key} == {(key, "done", True)}
        assert len(await rows(database_url, statuses)) == len(ASKED)
