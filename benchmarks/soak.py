"""A soak of five instances on one PostgreSQL, with kill -9 chaos.

    python benchmarks/soak.py [--members 300] [--channels 3] [--rounds 12] [--focus 60] [--kill-every 3]

Three `unmeet serve --no-worker` and two `unmeet worker` processes share a fresh PostgreSQL database
(127.0.0.1:5432). This process plays Slack: the loopback Slack Web API fake runs here, and a driver
sends signed requests round-robin over the serve instances, moving on to the next when one does not
answer, as a load balancer does. It shares rounds (/share-insight and its modal), answers them as the
members (the DM's Answer button and the answer modal), starts focus sessions (/focus), and sets each
channel's digest to come due halfway through. Meanwhile a chaos loop kills one of the five processes
with SIGKILL every few seconds, starts it again and times how long it takes to be ready.

When the work is done, every process is up again and the queue has drained, it checks: each round's
DM reached each member exactly once, each stored answer is in its thread exactly once, each answer
the driver saw acknowledged is stored, each confirmed focus session runs once, each channel got
exactly one digest for the week, and no job is dead. The last line:
    soak: instances=5 kills=… rounds=… dms=… answers=… focus=… lost=0 duplicated=0 threads_dup=0 …
tests/ops/test_soak.py runs a short version in the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from _common import child_env, free_port, median, scratch, start_process, wait_healthy
from core.domain.digest import DigestSchedule
from core.domain.rounds import zone
from core.persistence import digest as digest_store
from core.persistence.db import Database
from core.persistence.migrate import upgrade
from core.persistence.tables import answers, channels, jobs, members, rounds
from core.persistence.tables_focus import focus_sessions
from core.services.digest import schedule_channel
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import submission

SECRET = slack_requests.SIGNING_SECRET
TOKEN = "xoxb-test"
TZ = "Europe/Brussels"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass
class Instance:
    name: str
    args: list[str]
    env: dict[str, str]
    ready_url: str
    log: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        started = time.perf_counter()
        self.process = await start_process(self.args, self.env, self.log)
        await wait_healthy(self.ready_url, self.process, self.log, timeout=120)
        return time.perf_counter() - started

    async def kill(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                await self.kill()


@dataclass
class Result:
    instances: int
    kills: int
    rounds: int
    dms: int
    answers: int
    focus: int
    lost: int
    duplicated: int
    threads_dup: int
    answers_lost: int
    focus_dup: int
    digests: int
    channels: int
    dead: int
    recovery_s: list[float] = field(default_factory=list)
    requests: int = 0
    wall_s: float = 0.0

    def line(self) -> str:
        recovery = f"{median(self.recovery_s):.1f}/{max(self.recovery_s):.1f}" if self.recovery_s else "-"
        return (f"soak: instances={self.instances} kills={self.kills} rounds={self.rounds} dms={self.dms} "
                f"answers={self.answers} focus={self.focus} requests={self.requests} lost={self.lost} "
                f"duplicated={self.duplicated} threads_dup={self.threads_dup} answers_lost={self.answers_lost} "
                f"focus_dup={self.focus_dup} digests={self.digests}/{self.channels} dead={self.dead} "
                f"recovery_s_median/max={recovery} wall_s={self.wall_s:.0f}")

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.threads_dup or self.answers_lost or self.focus_dup
                    or self.dead) and self.digests == self.channels


class Balancer:
    """Round-robin over the serve instances; a request no instance answers below 500 goes to the next one
    (a new signature and, for interactions, a new trigger_id each time, as Slack's retry of the user's
    click would have)."""

    def __init__(self, urls: list[str], session: aiohttp.ClientSession):
        self.urls, self.session, self.next, self.requests = urls, session, 0, 0

    async def post(self, signed) -> tuple[int, str]:
        for attempt in range(200):
            url = self.urls[self.next % len(self.urls)]
            self.next += 1
            body, headers = signed()
            self.requests += 1
            try:
                async with self.session.post(f"{url}/slack/events", data=body, headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=10)) as response:
                    text = await response.text()
                    if response.status < 500:
                        return response.status, text
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(min(0.05 * attempt, 1.0))
        raise RuntimeError("no instance answered")


def outbox_keys(slack: FakeSlackApi) -> Counter:
    """How many messages (top level and in threads) carry each outbox key, over every conversation."""
    keys: Counter = Counter()
    for messages in slack._messages.values():
        for message in messages:
            metadata = message.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            key = ((metadata or {}).get("event_payload") or {}).get("key")
            if key:
                keys[key] += 1
    return keys


class Driver:
    def __init__(self, slack: FakeSlackApi, balancer: Balancer):
        self.slack, self.balancer = slack, balancer
        self.answered: set[tuple[str, str]] = set()  # (round title, user) acknowledged
        self.focused: set[str] = set()

    async def _open_view(self, user: str, signed_with) -> dict:
        """Press/type something that opens a modal; the view Slack opened for it (retried on a lost trigger)."""
        for _ in range(20):
            triggers: list[str] = []

            def signed():
                triggers.append(self.slack.new_trigger_id(user))
                return signed_with(triggers[-1])

            await self.balancer.post(signed)
            try:
                call = await self.slack.wait_for(lambda: next(
                    (c for c in self.slack.calls_to("views.open") if c.ok and c.params.get("trigger_id") in triggers),
                    None), timeout=8)
                return call.params["view"]
            except TimeoutError:
                continue
        raise RuntimeError(f"no modal opened for {user}")

    async def submit(self, user: str, view: dict, values: dict) -> None:
        state = submission(view, values)
        status, text = await self.balancer.post(lambda: slack_requests.view_submission(state, user_id=user))
        assert status == 200 and (not text.strip() or json.loads(text).get("response_action") == "clear"), text

    async def share(self, lead: str, channel: str, title: str) -> None:
        view = await self._open_view(lead, lambda trigger: slack_requests.slash_command(
            "/share-insight", "", user_id=lead, channel_id=channel, trigger_id=trigger))
        await self.submit(lead, view, {"title": title, "link": "https://example.org/soak", "channel": channel,
                                       "deadline": (date.today() + timedelta(days=5)).isoformat(),
                                       "share_mode": "thread"})

    async def answer(self, user: str, round_id: str, title: str) -> None:
        view = await self._open_view(user, lambda trigger: slack_requests.block_action(
            "round.answer", round_id, user_id=user, channel_id=f"D{user}", trigger_id=trigger))
        await self.submit(user, view, {"a1": f"{user} one", "a2": f"{user} two", "a3": f"{user} three"})
        self.answered.add((title, user))

    async def focus(self, user: str) -> None:
        for _ in range(20):  # a person who sees no answer types it again
            before = len([e for e in self.slack.ephemerals if e.get("user") == user])
            await self.balancer.post(lambda: slack_requests.slash_command("/focus", "25", user_id=user,
                                                                           channel_id="C0", trigger_id="t"))
            try:
                await self.slack.wait_for(lambda: len([e for e in self.slack.ephemerals if e.get("user") == user])
                                          > before, timeout=5)
                self.focused.add(user)
                return
            except TimeoutError:
                continue


async def chaos(instances: list[Instance], every: float, stop: asyncio.Event, recovery: list[float],
                rng: random.Random) -> int:
    kills = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
            break
        except TimeoutError:
            pass
        victim = rng.choice(instances)
        await victim.kill()
        kills += 1
        recovery.append(await victim.start())
    return kills


async def drained(db: Database, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        now = datetime.now(timezone.utc)
        async with db.transaction() as conn:
            waiting = (await conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
                jobs.c.status == "pending", jobs.c.due_at <= now))).scalar_one()
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{waiting} jobs still due after {timeout:.0f} s")
        await asyncio.sleep(0.5)


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def set_digests_due(db: Database, earliest: datetime) -> datetime:
    """As an admin would in `/unmeet settings`: each channel's digest at the first whole minute from
    `earliest` (its weekday and time of day); returns that instant."""
    local = (earliest + timedelta(seconds=60 - earliest.second)).astimezone(zone(TZ)).replace(second=0,
                                                                                               microsecond=0)
    schedule = DigestSchedule(enabled=True, weekday=local.weekday(), at=local.time())
    now = datetime.now(timezone.utc)
    async with db.transaction() as conn:
        for channel_id in (await conn.execute(sa.select(channels.c.id))).scalars().all():
            await digest_store.save_channel_settings(conn, channel_id, schedule, tz=TZ, locale=None, now=now)
            await schedule_channel(conn, await digest_store.channel_context(conn, channel_id), now, revive=True)
    return local.astimezone(timezone.utc)


async def soak(*, members: int = 300, channel_count: int = 3, round_count: int = 12, focus_count: int = 60,
               kill_every: float = 3.0, answer_share: float = 0.6, digest_in: float = 60.0, seed: int = 1,
               work: Path) -> Result:
    rng = random.Random(seed)
    name = f"unmeet_soak_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    database_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    db = Database(database_url)
    instances: list[Instance] = []
    try:
        await asyncio.to_thread(upgrade, database_url)
        async with FakeSlackApi(TOKEN, rate_limits=False) as slack, aiohttp.ClientSession() as session:
            people = [f"U{i:04d}" for i in range(members)]
            for user in people:
                slack.add_user(user, user.lower(), f"Person {user}", tz=TZ)
            groups = [people[i::channel_count] for i in range(channel_count)]
            channel_ids = [f"C{i + 1}" for i in range(channel_count)]
            for channel, group in zip(channel_ids, groups):
                slack.add_channel(channel, channel.lower(), members=group)
            slack.add_channel("C0", "focus", members=people)

            base = child_env(DATABASE_URL=database_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                             SLACK_API_URL=slack.base_url, SLACK_RATE_SCALE="1000", JOB_POLL_SECONDS="0.1",
                             JOB_LEASE_SECONDS="3", HOST="127.0.0.1")
            for n in range(3):
                port = free_port()
                instances.append(Instance(f"serve{n + 1}", [sys.executable, "-m", "unmeet", "serve", "--no-worker",
                                                            "--no-migrate"], {**base, "PORT": str(port)},
                                          f"http://127.0.0.1:{port}/readyz", work / f"serve{n + 1}.log"))
            for n in range(2):
                port = free_port()
                instances.append(Instance(f"worker{n + 1}", [sys.executable, "-m", "unmeet", "worker"],
                                          {**base, "UNMEET_WORKER_PORT": str(port)},
                                          f"http://127.0.0.1:{port}/readyz", work / f"worker{n + 1}.log"))
            await asyncio.gather(*(i.start() for i in instances))

            balancer = Balancer([i.ready_url.removesuffix("/readyz") for i in instances[:3]], session)
            driver = Driver(slack, balancer)
            stop, recovery = asyncio.Event(), []
            started = time.perf_counter()
            chaos_task = asyncio.create_task(chaos(instances, kill_every, stop, recovery, rng))
            gate = asyncio.Semaphore(16)

            async def limited(coroutine):
                async with gate:
                    await coroutine

            round_ids: dict[int, str] = {}

            async def share_round(number: int) -> None:
                index = number % channel_count
                await driver.share(groups[index][0], channel_ids[index], f"Soak round {number}")
                async with db.transaction() as conn:
                    round_ids[number] = str(await _wait_for_round(conn, f"Soak round {number}"))

            async def answer_round(number: int) -> None:
                group = groups[number % channel_count]
                chosen = [u for u in group[1:] if rng.random() < answer_share]
                await asyncio.gather(*(limited(_answer_when_asked(driver, slack, u, round_ids[number],
                                                                  f"Soak round {number}")) for u in chosen))

            async def whole_round(number: int) -> None:
                await share_round(number)
                await answer_round(number)

            first = range(min(round_count, channel_count))
            await asyncio.gather(*(share_round(n) for n in first))  # now every channel is known
            digest_at = await set_digests_due(db, datetime.now(timezone.utc) + timedelta(seconds=digest_in))
            await asyncio.gather(*(answer_round(n) for n in first),
                                 *(whole_round(n) for n in range(len(first), round_count)),
                                 *(limited(driver.focus(u)) for u in rng.sample(people, min(focus_count, members))))
            wait = (digest_at - datetime.now(timezone.utc)).total_seconds() + 3
            if wait > 0:
                await asyncio.sleep(wait)  # the digests come due while the chaos goes on
            stop.set()
            kills = await chaos_task
            for instance in instances:  # everything up again (the last victim is restarted by chaos)
                if instance.process is None or instance.process.returncode is not None:
                    await instance.start()
            await drained(db, timeout=180)
            await asyncio.sleep(2)  # anything sent twice would have arrived by now
            wall = time.perf_counter() - started
            return await _check(db, slack, driver, channel_ids, groups, kills, recovery, balancer.requests, wall,
                                len(instances))
    finally:
        for instance in instances:
            await instance.stop()
        await db.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _wait_for_round(conn, title: str) -> int:
    for _ in range(200):
        found = (await conn.execute(sa.select(rounds.c.id).where(rounds.c.title == title)
                                    .order_by(rounds.c.id))).scalars().first()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise RuntimeError(f"round {title} was not stored")


async def _answer_when_asked(driver: Driver, slack: FakeSlackApi, user: str, round_id: str, title: str) -> None:
    await slack.wait_for(lambda: any(title in json.dumps(m) for m in slack.dms(user)), timeout=120)
    await driver.answer(user, round_id, title)


async def _check(db: Database, slack: FakeSlackApi, driver: Driver, channel_ids, groups, kills, recovery,
                 requests, wall, count) -> Result:
    keys = outbox_keys(slack)
    async with db.transaction() as conn:
        dm_keys = (await conn.execute(sa.select(jobs.c.key).where(jobs.c.kind == "round.dm"))).scalars().all()
        stored = (await conn.execute(sa.select(answers.c.id, rounds.c.title, members.c.external_id)
                                     .join(rounds, rounds.c.id == answers.c.round_id)
                                     .join(members, members.c.id == answers.c.member_id))).all()
        round_rows = (await conn.execute(sa.select(rounds.c.id, channels.c.external_id)
                                         .join(channels, channels.c.id == rounds.c.channel_id))).all()
        # A /focus that reached an instance killed before it answered is sent again (by the balancer, or
        # by the person): the second session replaces the first, so each person has one running.
        focus_rows = Counter((await conn.execute(sa.select(members.c.external_id).join(
            focus_sessions, focus_sessions.c.member_id == members.c.id).where(
            sa.or_(focus_sessions.c.ended_by.is_(None), focus_sessions.c.ended_by != "replaced")))).scalars().all())
        dead = (await conn.execute(sa.select(sa.func.count()).select_from(jobs).where(jobs.c.status == "dead"))
                ).scalar_one()
    # every member but the author, of every round (a round shared twice by a retried click is a round)
    expected_dms = sum(len(groups[channel_ids.index(channel)]) - 1 for _, channel in round_rows)
    lost = expected_dms - len(set(dm_keys)) + sum(1 for k in dm_keys if keys[k] == 0)
    duplicated = sum(keys[k] - 1 for k in dm_keys if keys[k] > 1)
    threads_dup = sum(1 for a in stored if keys[f"answer:{a.id}"] != 1)
    answers_lost = len(driver.answered - {(a.title, a.external_id) for a in stored})
    focus_dup = sum(1 for u in driver.focused if focus_rows[u] != 1)
    digests = sum(1 for channel in channel_ids
                  if sum(1 for m in slack.messages(channel) if "digest:" in json.dumps(m.get("metadata") or {})) == 1)
    return Result(instances=count, kills=kills, rounds=len(round_rows), dms=len(dm_keys), answers=len(stored),
                  focus=len(driver.focused), lost=lost, duplicated=duplicated, threads_dup=threads_dup,
                  answers_lost=answers_lost, focus_dup=focus_dup, digests=digests, channels=len(channel_ids),
                  dead=dead, recovery_s=recovery, requests=requests, wall_s=wall)


async def main(args: argparse.Namespace) -> None:
    with scratch("unmeet-soak-") as work:  # its processes' logs
        result = await soak(members=args.members, channel_count=args.channels, round_count=args.rounds,
                            focus_count=args.focus, kill_every=args.kill_every, seed=args.seed, work=work)
    print(result.line())
    if not result.clean:
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--focus", type=int, default=60)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
