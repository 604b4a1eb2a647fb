"""Acknowledgement latency of `/share-insight`, the Answer button and the answer form's submission at
50 concurrent signed requests, against `unmeet serve` (its worker in the same process, as by default)
and a bare Bolt app that acks and makes the same platform call, alternating batches (A B A B …).
The same signed bodies reach both; the submission carries three answers, which unmeet checks and
commits as a job before it acknowledges (one commit for the answers arriving together; the baseline
stores nothing), and its worker stores and threads them after. Between
batches each process is left to finish what the batch made it do (`settle`: its CPU at rest and, for
unmeet, no job due), so no batch is measured against the other process's leftovers, and each batch's
CPU is counted whole.

    python benchmarks/ack_latency.py [--batches 6] [--requests 200] [--concurrency 50]

Ends with: ack_latency: p50_ms=… p99_ms=… baseline_p50_ms=… baseline_p99_ms=… ratio=…
and one such line per kind (p50 over all requests; p99 = the median of the batches' p99s, so one
disturbed batch doesn't decide; ratio = our p99 / the baseline's p99; target ≤ 1.15 for each kind; each
batch's p99 is printed too). Also prints the CPU each
request cost in the server, the baseline and this process (load client + fake Slack), so a reader can
tell where the time went on a machine whose cores they all share.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import sys
import time
from contextlib import closing
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import aiohttp

from _common import (ROOT, child_env, cpu_seconds, free_port, median, percentile, rss_mb, scratch,
                     start_process, stop_process, wait_healthy)
from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import ShareInput
from core.persistence.migrate import upgrade
from core.services import rounds
from slack_app import SlackAdapter
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import submission

KINDS = ("command", "answer", "submission")

SECRET = slack_requests.SIGNING_SECRET
MEMBERS = 60


async def seed_round(slack: FakeSlackApi, database_url: str, env: dict[str, str], *, run_jobs: bool) -> int:
    """A round in C1 whose DMs went out, so members can press Answer (`run_jobs`: no worker is running,
    so `unmeet jobs run-due` sends them)."""
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
    dms_out = lambda: len(slack.calls_to("chat.postMessage")) > MEMBERS  # noqa: E731
    for _ in range(5 if run_jobs else 0):  # the fan-out queues the DMs, a second pass sends them
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "unmeet", "jobs", "run-due", env=env)
        await process.wait()
        if dms_out():
            break
    await slack.wait_for(dms_out, timeout=60)
    return 1


def due_jobs(database: Path) -> int:
    """Jobs in unmeet's outbox that are due and not done yet (the thread replies of stored answers…)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ")  # as the table stores it: naive UTC
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as conn:
        return conn.execute("SELECT count(*) FROM jobs WHERE status = 'pending' AND due_at <= ?", (now,)).fetchone()[0]


async def settle(pid: int, database: Path | None = None, timeout: float = 60) -> None:
    """Wait until a process finished what the last batch made it do after the acknowledgements (platform
    calls, stored answers, jobs): its CPU stopped (under 2 clock ticks in 0.2 s) and, for unmeet, no job
    is due. Both processes get this wait, so neither batch is measured against the other's leftovers."""
    deadline = time.perf_counter() + timeout
    last = cpu_seconds(pid)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
        used, last = cpu_seconds(pid) - last, cpu_seconds(pid)
        if used < 0.015 and (database is None or await asyncio.to_thread(due_jobs, database) == 0):
            return
    print(f"warning: process {pid} still busy after {timeout:.0f} s", file=sys.stderr)


async def answer_form(session: aiohttp.ClientSession, url: str, slack: FakeSlackApi, round_id: int) -> dict:
    """The answer form unmeet opens for the Answer button (its blocks and metadata), as Slack holds it."""
    body, headers = slack_requests.block_action("round.answer", str(round_id), user_id="U000", channel_id="C1",
                                                trigger_id=slack.new_trigger_id("U000"))
    async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
        assert response.status == 200
    opened = await slack.wait_for(lambda: [c for c in slack.calls_to("views.open")
                                           if c.params["view"].get("callback_id") == "round.answer_form"])
    return opened[-1].params["view"]


async def batch(session: aiohttp.ClientSession, url: str, slack: FakeSlackApi, kind: str, n: int,
                concurrency: int, round_id: int, form: dict) -> list[float]:
    """One batch, with this process's garbage collector off: the fake keeps every call it got, and a full
    collection of that (up to 100 ms late in a run) stalled the client and the fake in the middle of
    whichever process's batch it fell on. It collects between batches instead."""
    gc.collect()
    gc.disable()
    try:
        return await _batch(session, url, slack, kind, n, concurrency, round_id, form)
    finally:
        gc.enable()


async def _batch(session: aiohttp.ClientSession, url: str, slack: FakeSlackApi, kind: str, n: int,
                 concurrency: int, round_id: int, form: dict) -> list[float]:
    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(i: int) -> None:
        user = f"U{i % MEMBERS:03d}"
        async with semaphore:  # the trigger id is minted as Slack would: just before the request
            if kind == "command":
                body, headers = slack_requests.slash_command("/share-insight", "", user_id=user, channel_id="C1",
                                                             trigger_id=slack.new_trigger_id(user))
            elif kind == "answer":
                body, headers = slack_requests.block_action("round.answer", str(round_id), user_id=user,
                                                            channel_id="C1", trigger_id=slack.new_trigger_id(user))
            else:
                words = {"a1": f"Answer {i}", "a2": "What I noticed", "a3": "What I will try"}
                body, headers = slack_requests.view_submission(submission(form, words), user_id=user)
            started = time.perf_counter()
            async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
                await response.read()
                text = await response.text()
                assert response.status == 200 and "errors" not in text, (response.status, text)
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(one(i) for i in range(n)))
    return latencies


async def main(args: argparse.Namespace, work: Path) -> None:
    database = work / "bench.db"
    database_url = f"sqlite:///{database}"
    await asyncio.to_thread(upgrade, database_url)
    async with FakeSlackApi(rate_limits=False) as slack:
        slack.add_user("ULEAD", "lea", "Lea", tz="Europe/Brussels")
        users = [f"U{i:03d}" for i in range(MEMBERS)]
        for user in users:
            slack.add_user(user, user.lower(), f"Person {user}", tz="Europe/Brussels")
        slack.add_channel("C1", "team", members=["ULEAD", *users])
        ours_port, base_port = free_port(), free_port()
        common = dict(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
        # The fake has no rate limits, so unmeet's pacing of them (SLACK_RATE_SCALE) is only waiting: at
        # Slack's pace the thread replies of a batch's answers took a minute to drain before the next batch.
        ours = await start_process([sys.executable, "-m", "unmeet", "serve", "--no-migrate",
                                    *(["--no-worker"] if args.no_worker else [])],
                                   child_env(DATABASE_URL=database_url, HOST="127.0.0.1", PORT=str(ours_port),
                                             SLACK_RATE_SCALE="100", **common), work / "serve.log")
        base = await start_process([sys.executable, str(ROOT / "benchmarks" / "_bare_bolt.py")],
                                   child_env(PORT=str(base_port), **common), work / "bare.log")
        try:
            targets = {"unmeet": (f"http://127.0.0.1:{ours_port}", ours),
                       "bare_bolt": (f"http://127.0.0.1:{base_port}", base)}
            outbox = {"unmeet": database, "bare_bolt": None}  # the bare app has no jobs
            for url, process in targets.values():
                await wait_healthy(f"{url}/healthz", process, work / "serve.log")
            round_id = await seed_round(slack, database_url, child_env(DATABASE_URL=database_url, **common),
                                        run_jobs=args.no_worker)
            await asyncio.sleep(2)  # the round's jobs are done: this is unmeet at rest
            idle_rss_mb = rss_mb(ours.pid)
            results = {name: {kind: [] for kind in KINDS} for name in targets}
            batch_p99 = {name: {kind: [] for kind in KINDS} for name in targets}  # their medians are quoted
            cpu = {name: 0.0 for name in targets}
            client_cpu = 0.0
            requests = 0
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                form = await answer_form(session, targets["unmeet"][0], slack, round_id)
                for name, (url, process) in targets.items():  # warm-up, not measured
                    for kind in KINDS:
                        await batch(session, url, slack, kind, 50, args.concurrency, round_id, form)
                        await settle(process.pid, outbox[name])
                for _ in range(args.batches):
                    for name, (url, process) in targets.items():
                        for kind in KINDS:
                            before, client_before = cpu_seconds(process.pid), cpu_seconds()
                            latencies = await batch(session, url, slack, kind, args.requests, args.concurrency,
                                                    round_id, form)
                            await settle(process.pid, outbox[name])  # its CPU counts what the batch caused
                            cpu[name] += cpu_seconds(process.pid) - before
                            client_cpu += cpu_seconds() - client_before
                            requests += args.requests
                            results[name][kind] += latencies
                            batch_p99[name][kind].append(percentile(latencies, 99))
        finally:
            await stop_process(ours)
            await stop_process(base)

    per_target = args.batches * len(KINDS) * args.requests
    for name in results:
        for kind in KINDS:
            values = results[name][kind]
            print(f"{name:9s} {kind:10s} n={len(values)} p50_ms={percentile(values, 50):.1f} "
                  f"p99_ms={median(batch_p99[name][kind]):.1f} "
                  f"batch_p99s_ms={','.join(f'{p:.0f}' for p in batch_p99[name][kind])}")
        print(f"{name:9s} cpu_ms_per_request={cpu[name] / per_target * 1000:.2f}")
    print(f"client+fake cpu_ms_per_request={client_cpu / requests * 1000:.2f}")
    print(f"unmeet idle_rss_mb={idle_rss_mb:.0f}")
    for kind in KINDS:
        ours, base = results["unmeet"][kind], results["bare_bolt"][kind]
        p99, base_p99 = median(batch_p99["unmeet"][kind]), median(batch_p99["bare_bolt"][kind])
        print(f"ack_latency {kind}: p50_ms={median(ours):.1f} p99_ms={p99:.1f} baseline_p50_ms={median(base):.1f} "
              f"baseline_p99_ms={base_p99:.1f} ratio={p99 / base_p99:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--kinds", default=",".join(KINDS), help="which requests to measure (comma-separated)")
    parser.add_argument("--no-worker", action="store_true",
                        help="diagnosis: unmeet serve without its in-process worker (not the default setup)")
    arguments = parser.parse_args()
    KINDS = tuple(kind for kind in KINDS if kind in arguments.kinds.split(","))
    with scratch("unmeet-bench-") as folder:
        asyncio.run(main(arguments, folder))
