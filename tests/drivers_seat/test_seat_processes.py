"""Three `unmeet jobs run-due` processes on PostgreSQL racing at a morning's due time: one morning DM
per person (the outbox key `seat-morning:{run}:{day}`), against the fake Slack Web API."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from core.bootstrap import build_deps
from core.config import Settings
from core.domain import drivers_seat as rules
from core.domain.refs import PersonRef, WorkspaceRef
from core.services import drivers_seat as seat
from slack_app import SlackAdapter
from tests.fakes.slack_api import FakeSlackApi
from tests.integration.test_jobs_processes import SECRET, pg_url, start, worker_env  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres

PEOPLE = 40
TZ = "Europe/Brussels"


async def test_three_schedulers_racing_at_the_morning_send_one_dm_per_person(pg_url):  # noqa: F811
    async with FakeSlackApi(rate_limits=False) as slack:
        people = [f"U{n:04d}" for n in range(PEOPLE)]
        for user in people:
            slack.add_user(user, user.lower(), f"Person {user}", tz=TZ)
        settings = Settings(database_url=pg_url, slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                            slack_api_url=slack.base_url)
        deps = build_deps(settings)
        deps.messengers["slack"] = SlackAdapter(deps).messenger
        try:
            for user in people:
                await seat.start(deps, person=PersonRef(WorkspaceRef("slack", "T1"), user))
        finally:
            await deps.close()
        now = datetime.now(timezone.utc)
        due = max(now, rules.morning(rules.first_day(now, TZ), TZ)) + timedelta(seconds=1)
        env = worker_env(pg_url, slack)
        racers = [await start(env, "jobs", "run-due", "--now", due.isoformat()) for _ in range(3)]
        assert [await asyncio.wait_for(p.wait(), 120) for p in racers] == [0, 0, 0]
        mornings = Counter({user: sum(1 for m in slack.dms(user) if "Which three tasks" in (m.get("text") or ""))
                            for user in people})
        assert set(mornings.values()) == {1}
