"""Acknowledgement latency of `/share-insight` and the Answer button at 50 concurrent signed requests,
against `unmeet serve` and a bare Bolt app that acks and calls views.open, alternating batches (A B A B …).

    python benchmarks/ack_latency.py [--batches 6] [--requests 200] [--concurrency 50]

Ends with: ack_latency: p50_ms=… p99_ms=… baseline_p50_ms=… baseline_p99_ms=… ratio=…
(p50 over all requests; p99 = the median of the batches' p99s, so one disturbed batch doesn't decide;
ratio = our p99 / the baseline's p99; target ≤ 1.15 and p99 < 100 ms). Also prints the CPU each
request cost in the server, the baseline and this process (load client + fake Slack), so a reader can
tell where the time went on a machine whose cores they all share.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import aiohttp

from _common import (ROOT, child_env, cpu_seconds, free_port, median, percentile, start_process, stop_process,
                     wait_healthy)
from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import ShareInput
from core.persistence.migrate import upgrade
from core.services import rounds
from slack_app import SlackAdapter
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi

SECRET = slack_requests.SIGNING_SECRET
MEMBERS = 60


async def seed_round(slack: FakeSlackApi, database_url: str) -> int:
    """A round in C1 whose DMs went out, so members can press Answer."""
    settings = Settings(database_url=database_url, slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                        slack_api_url=slack.base_url)
    deps = build_deps(settings)
    deps.messengers["slack"] = SlackAdapter(deps).messenger
    result = await rounds.share_insight(
        deps, author=PersonRef(WorkspaceRef("slack", "T1"), "ULEAD"),
        data=ShareInput(title="Bench", link="https://example.org", questions=("a?", "b?", "c?"),
                        deadline=date.today() + timedelta(days=7), channel_id="C1"))
    assert isinstance(result, rounds.Done), result
    await deps.close()
    await slack.wait_for(lambda: len([c for c in slack.calls_to("chat.postMessage")]) > MEMBERS, timeout=60)
    return 1


async def batch(session: aiohttp.ClientSession, url: str, slack: FakeSlackApi, kind: str, n: int,
                concurrency: int, round_id: int) -> list[float]:
    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(i: int) -> None:
        user = f"U{i % MEMBERS:03d}"
        async with semaphore:  # the trigger id is minted as Slack would: just before the request
            if kind == "command":
                body, headers = slack_requests.slash_command("/share-insight", "", user_id=user, channel_id="C1",
                                                             trigger_id=slack.new_trigger_id(user))
            else:
                body, headers = slack_requests.block_action("round.answer", str(round_id), user_id=user,
                                                            channel_id="C1", trigger_id=slack.new_trigger_id(user))
            started = time.perf_counter()
            async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, (response.status, await response.text())
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(one(i) for i in range(n)))
    return latencies


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="unmeet-bench-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    await asyncio.to_thread(upgrade, database_url)
    async with FakeSlackApi(rate_limits=False) as slack:
        slack.add_user("ULEAD", "lea", "Lea", tz="Europe/Brussels")
        users = [f"U{i:03d}" for i in range(MEMBERS)]
        for user in users:
            slack.add_user(user, user.lower(), f"Person {user}", tz="Europe/Brussels")
        slack.add_channel("C1", "team", members=["ULEAD", *users])
        ours_port, base_port = free_port(), free_port()
        common = dict(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
        ours = await start_process([sys.executable, "-m", "unmeet", "serve", "--no-migrate"],
                                   child_env(DATABASE_URL=database_url, HOST="127.0.0.1", PORT=str(ours_port),
                                             **common), work / "serve.log")
        base = await start_process([sys.executable, str(ROOT / "benchmarks" / "_bare_bolt.py")],
                                   child_env(PORT=str(base_port), **common), work / "bare.log")
        try:
            targets = {"unmeet": (f"http://127.0.0.1:{ours_port}", ours),
                       "bare_bolt": (f"http://127.0.0.1:{base_port}", base)}
            for url, process in targets.values():
                await wait_healthy(f"{url}/healthz", process, work / "serve.log")
            round_id = await seed_round(slack, database_url)
            results = {name: {"command": [], "answer": []} for name in targets}
            batch_p99 = {name: [] for name in targets}  # one p99 per batch: the medians of these are quoted
            cpu = {name: 0.0 for name in targets}
            client_cpu = 0.0
            requests = 0
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                for name, (url, _p) in targets.items():  # warm-up, not measured
                    for kind in ("command", "answer"):
                        await batch(session, url, slack, kind, 50, args.concurrency, round_id)
                for _ in range(args.batches):
                    for name, (url, process) in targets.items():
                        for kind in ("command", "answer"):
                            before, client_before = cpu_seconds(process.pid), cpu_seconds()
                            latencies = await batch(session, url, slack, kind, args.requests, args.concurrency,
                                                    round_id)
                            await asyncio.sleep(0.3)  # let work after the ack (views.open) finish in this batch
                            cpu[name] += cpu_seconds(process.pid) - before
                            client_cpu += cpu_seconds() - client_before
                            requests += args.requests
                            results[name][kind] += latencies
                            batch_p99[name].append(percentile(latencies, 99))
        finally:
            await stop_process(ours)
            await stop_process(base)

    per_target = args.batches * 2 * args.requests
    for name in results:
        for kind in ("command", "answer"):
            values = results[name][kind]
            print(f"{name:9s} {kind:7s} n={len(values)} p50_ms={percentile(values, 50):.1f} "
                  f"p99_ms={percentile(values, 99):.1f}")
        print(f"{name:9s} cpu_ms_per_request={cpu[name] / per_target * 1000:.2f}")
    print(f"client+fake cpu_ms_per_request={client_cpu / requests * 1000:.2f}")
    ours_all = results["unmeet"]["command"] + results["unmeet"]["answer"]
    base_all = results["bare_bolt"]["command"] + results["bare_bolt"]["answer"]
    p99, base_p99 = median(batch_p99["unmeet"]), median(batch_p99["bare_bolt"])
    print(f"ack_latency: p50_ms={median(ours_all):.1f} p99_ms={p99:.1f} baseline_p50_ms={median(base_all):.1f} "
          f"baseline_p99_ms={base_p99:.1f} ratio={p99 / base_p99:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
