"""Benchmark: building one channel's weekly digest from a year of history.

A channel with 1,000 members, 10,000 answers over 52 weekly rounds, focus sessions and meeting checks,
on SQLite and on PostgreSQL (when a server answers on 127.0.0.1:5432; UNMEET_BENCH_PG overrides the
admin URL), then the same at a tenth of the data. Prints the build time (median of 5; no chart, no
LLM) and the number of SQL statements per build — which must not grow with the data.

    python -m benchmarks.digest        (or: python benchmarks/digest.py)
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.domain.digest import week_of  # noqa: E402
from core.domain.refs import WorkspaceRef  # noqa: E402
from core.persistence import digest as store  # noqa: E402
from core.persistence import repository as repo  # noqa: E402
from core.persistence.db import Database  # noqa: E402
from core.persistence.migrate import upgrade  # noqa: E402
from core.persistence.tables import answers, members, recipients, rounds, summaries  # noqa: E402
from core.persistence.tables_focus import focus_sessions, meeting_checks  # noqa: E402
from core.services.digest import build_digest  # noqa: E402

PG_ADMIN = os.environ.get("UNMEET_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 12, 4, 14, 0, tzinfo=timezone.utc)  # a Friday, digest time in Brussels
TZ = "Europe/Brussels"
WEEKS = 52
RUNS = 5


async def seed(db: Database, n_members: int, n_answers: int) -> int:
    """One workspace and channel; a round a week for a year, each asking everyone; answers spread
    over the rounds; focus sessions and meeting checks every week. Returns the channel id."""
    rng = random.Random(7)
    async with db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, WorkspaceRef("slack", "TBENCH"), now=NOW, tz=TZ)
        channel_id = await repo.ensure_channel(conn, workspace_id, "CBENCH", tz=TZ)
        await conn.execute(sa.insert(members), [dict(workspace_id=workspace_id, external_id=f"U{i}", name=f"P {i}")
                                                for i in range(n_members)])
        member_ids = list((await conn.execute(sa.select(members.c.id).where(
            members.c.workspace_id == workspace_id).order_by(members.c.id))).scalars())
        round_rows = []
        for week in range(WEEKS):
            created = NOW - timedelta(weeks=WEEKS - week, hours=-2)
            last = week == WEEKS - 1
            round_rows.append(dict(
                workspace_id=workspace_id, channel_id=channel_id, author_id=member_ids[0], title=f"Round {week}",
                link="https://example.org", body="", questions=["a", "b", "c"], share_mode="thread", locale="en",
                status="open" if last else "closed", deadline_at=created + timedelta(days=7), created_at=created,
                closed_at=None if last else created + timedelta(days=7), post_conversation="CBENCH",
                post_id=f"{week}.0", asked=n_members - 1))
        await conn.execute(sa.insert(rounds), round_rows)
        round_ids = list((await conn.execute(sa.select(rounds.c.id, rounds.c.created_at).where(
            rounds.c.channel_id == channel_id).order_by(rounds.c.id))).all())
        await conn.execute(sa.insert(recipients), [dict(round_id=r, member_id=m) for r, _ in round_ids
                                                   for m in member_ids[1:]])
        await conn.execute(sa.insert(summaries), [dict(round_id=r, kind="offline", headline=f"Headline {r}", body={},
                                                       created_at=c + timedelta(days=7)) for r, c in round_ids[:-1]])
        per_round = n_answers // len(round_ids)
        rows = []
        for r, created in round_ids:
            for m in rng.sample(member_ids[1:], per_round):
                at = created + timedelta(minutes=rng.randrange(1, 6 * 24 * 60))
                rows.append(dict(round_id=r, member_id=m, texts=["x", "y", "z"], created_at=at, updated_at=at))
        await conn.execute(sa.insert(answers), rows)
        sessions = [dict(workspace_id=workspace_id, member_id=rng.choice(member_ids),
                         category=rng.choice(["proactive", "reactive", "stuff"]),
                         started_at=(s := NOW - timedelta(minutes=rng.randrange(10, WEEKS * 7 * 24 * 60))),
                         ends_at=s + timedelta(minutes=rng.choice([30, 60, 90])), ended_at=None)
                    for _ in range(n_answers)]
        await conn.execute(sa.insert(focus_sessions), sessions)
        checks = [dict(workspace_id=workspace_id, member_id=rng.choice(member_ids), purpose="inform", agenda="x",
                       people=6, minutes=60, frequency="once", decider_known="yes", readable=True,
                       verdict=rng.choice(["meet", "go_async"]), person_hours=6.0,
                       created_at=NOW - timedelta(minutes=rng.randrange(10, WEEKS * 7 * 24 * 60)))
                  for _ in range(n_answers // 20)]
        await conn.execute(sa.insert(meeting_checks), checks)
    return channel_id


async def measure(db: Database, channel_id: int) -> tuple[float, int]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    async with db.transaction() as conn:
        context = await store.channel_context(conn, channel_id)
    week = week_of(NOW, context.tz)
    times = []
    for _ in range(RUNS):
        statements.clear()
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        started = time.perf_counter()
        async with db.transaction() as conn:
            digest = await build_digest(conn, context, week, NOW)
        times.append(time.perf_counter() - started)
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert not digest.is_empty
    return statistics.median(times), len(statements)


def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def _pg_admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN.replace("postgresql://", "postgres://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def run(backend: str, n_members: int, n_answers: int) -> str:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="unmeet-bench-")
        url, cleanup = f"sqlite:///{folder}/bench.db", None
    else:
        name = f"unmeet_bench_{uuid.uuid4().hex[:8]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        cleanup = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    try:
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        try:
            channel_id = await seed(db, n_members, n_answers)
            if backend == "postgresql":
                async with db.engine.connect() as conn:
                    await conn.execute(sa.text("ANALYZE"))
            build_s, count = await measure(db, channel_id)
        finally:
            await db.dispose()
    finally:
        if cleanup:
            await _pg_admin(cleanup)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return (f"digest: backend={backend} members={n_members} answers={n_answers} build_s={build_s:.3f} "
            f"statements={count}")


async def main() -> None:
    backends = ["sqlite"] + (["postgresql"] if pg_available() else [])
    if len(backends) == 1:
        print("(PostgreSQL is not running on 127.0.0.1:5432: SQLite only)")
    for members_n, answers_n in ((100, 1_000), (1_000, 10_000)):
        for backend in backends:
            print(await run(backend, members_n, answers_n), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
