"""A round to 1,000 members against the fake Slack Web API enforcing Slack's rate limits, sped up.

    python benchmarks/fanout.py [--members 1000] [--speedup 30] [--runs 3]

Every limit of the fake (Slack's tiers, chat.postMessage per channel and per workspace) is multiplied
by --speedup, and so is the app's own pacing (SLACK_RATE_SCALE), so the run takes seconds instead of
minutes while every limit still bites. The floor is the least time those limits allow for the calls
the fan-out needs (conversations.members pages, users.info per member, chat.postMessage per DM).
At this speed the worker is CPU-bound on a small machine, so one run's wall time varies with what
else the cores do: the round runs --runs times, each on a fresh database, fake and worker; each run
prints a line, and the last line gives the median wall time and the DMs lost or duplicated in all:
    fanout: members=… wall_s=… floor_s=… ratio=… lost=… duplicated=…
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from _common import child_env, cpu_seconds, median, scratch, start_process, stop_process
from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import ShareInput
from core.persistence.migrate import upgrade
from core.services import rounds
from slack_app import SlackAdapter
from tests.fakes import slack_requests
from tests.fakes.slack_api import METHOD_TIERS, TIER, FakeSlackApi, Limit

SECRET = slack_requests.SIGNING_SECRET


def scaled(limit: Limit, factor: float) -> Limit:
    return Limit(limit.per_second * factor, limit.burst)


@dataclass
class Run:
    wall: float
    floor: float
    worker_cpu_ms_per_dm: float
    lost: int
    duplicated: int


async def one_run(args: argparse.Namespace, work: Path) -> Run:
    database_url = f"sqlite:///{work / 'fanout.db'}"
    await asyncio.to_thread(upgrade, database_url)
    factor = args.speedup
    limits = {method: scaled(TIER[tier], factor) for method, tier in METHOD_TIERS.items()}
    async with FakeSlackApi(limits=limits, post_per_channel=scaled(Limit(1.0, 3), factor),
                            post_per_workspace=scaled(Limit(5.0, 20), factor)) as slack:
        slack.add_user("ULEAD", "lea", "Lea", tz="Europe/Brussels")
        members = [f"U{i:05d}" for i in range(args.members)]
        for user in members:
            slack.add_user(user, user.lower(), f"Person {user}", tz="Europe/Brussels")
        slack.add_channel("C1", "team", members=["ULEAD", *members])

        settings = Settings(database_url=database_url, slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                            slack_api_url=slack.base_url)
        deps = build_deps(settings)
        deps.messengers["slack"] = SlackAdapter(deps).messenger
        author = PersonRef(WorkspaceRef("slack", "T1"), "ULEAD")
        result = await rounds.share_insight(
            deps, author=author,
            data=ShareInput(title="Fan-out", link="https://example.org", questions=("a?", "b?", "c?"),
                            deadline=date.today() + timedelta(days=7), channel_id="C1"))
        assert isinstance(result, rounds.Confirm), result  # > 200 members
        calls_before = len(slack.calls)

        worker = await start_process(
            [sys.executable, "-m", "unmeet", "worker"],
            child_env(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                      SLACK_API_URL=slack.base_url, SLACK_RATE_SCALE=str(factor), JOB_POLL_SECONDS="0.05"),
            work / "worker.log")
        await asyncio.sleep(3)  # the worker is up and idle before the clock starts
        try:
            started = time.perf_counter()
            cpu_before = cpu_seconds(worker.pid)
            await rounds.confirm_share(deps, author=author, round_id=int(result.form.metadata))
            await slack.wait_for(lambda: all(slack.dms(user) for user in members), timeout=600)
            wall = time.perf_counter() - started
            worker_cpu = cpu_seconds(worker.pid) - cpu_before
            await asyncio.sleep(2)  # anything sent twice would have arrived by now
        finally:
            await stop_process(worker)
            await deps.close()

        received = Counter({user: len(slack.dms(user)) for user in members})
        pages = -(-(args.members + 2) // 200)
        floors = {
            "conversations.members": slack.floor_seconds("conversations.members", pages),
            "users.info": slack.floor_seconds("users.info", args.members),
            "chat.postMessage": slack.floor_seconds("chat.postMessage", args.members, channels=args.members),
        }
        calls = Counter(call.method for call in slack.calls[calls_before:])
        rejected = sum(1 for call in slack.calls[calls_before:] if call.status == 429)
        print("floors_s: " + " ".join(f"{m}={s:.1f}" for m, s in floors.items()))
        print("calls: " + " ".join(f"{m}={n}" for m, n in sorted(calls.items())) + f" rejected_429={rejected}")
        return Run(wall=wall, floor=max(floors.values()), worker_cpu_ms_per_dm=worker_cpu / args.members * 1000,
                   lost=sum(1 for n in received.values() if n == 0),
                   duplicated=sum(n - 1 for n in received.values() if n > 1))


async def main(args: argparse.Namespace) -> None:
    runs: list[Run] = []
    for number in range(1, args.runs + 1):
        with scratch("unmeet-fanout-") as work:
            run = await one_run(args, work)
        runs.append(run)
        print(f"run {number}: wall_s={run.wall:.1f} ratio={run.wall / run.floor:.2f} "
              f"worker_cpu_ms_per_dm={run.worker_cpu_ms_per_dm:.2f} lost={run.lost} duplicated={run.duplicated}",
              flush=True)
    wall, floor = median([r.wall for r in runs]), runs[0].floor
    print(f"worker cpu_ms_per_dm={median([r.worker_cpu_ms_per_dm for r in runs]):.2f} (median of {len(runs)})")
    print(f"fanout: members={args.members} wall_s={wall:.1f} floor_s={floor:.1f} ratio={wall / floor:.2f} "
          f"lost={sum(r.lost for r in runs)} duplicated={sum(r.duplicated for r in runs)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--speedup", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the last line gives their median")
    asyncio.run(main(parser.parse_args()))
