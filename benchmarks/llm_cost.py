"""What closing a 500-answer round costs with the model: calls and tokens (prompt + completion).

A real round — shared, fanned out, answered by 500 people through the services, closed by the job
worker at its deadline — summarised against the loopback OpenAI-compatible server, which counts
tokens the way the app estimates them (characters / 4). Target: at most 6 calls and 40,000 tokens.

    python benchmarks/llm_cost.py      # ends with: llm_cost: answers=500 calls=N tokens=T
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.bootstrap import build_deps, build_worker  # noqa: E402
from core.config import Settings  # noqa: E402
from core.domain.refs import PersonRef, WorkspaceRef  # noqa: E402
from core.domain.rounds import DEFAULT_QUESTIONS, ShareInput, ShareMode  # noqa: E402
from core.persistence import repository as repo  # noqa: E402
from core.persistence.migrate import upgrade  # noqa: E402
from core.ports import FixedClock  # noqa: E402
from core.services import rounds  # noqa: E402
from tests.fakes.messenger import FakeMessenger  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

ANSWERS = 500
WORKSPACE = WorkspaceRef("slack", "TBENCH")

RECOGNISE = ["I recognise myself in the planner: my calendar is full of status meetings.",
             "The firefighter, because I answer every chat message at once and lose my own thread.",
             "Partly the planner; meetings feel productive even when they are not.",
             "None of them really, my work is support tickets and that is interrupt-driven.",
             "The craftsman who hides from meetings to get real work done, that is me on Fridays.",
             "I see myself in the manager who wants to be reachable all the time."]
KINDS = ["Deep work, shallow work and meetings.", "Focus work, routine admin and collaboration.",
         "Deep work that needs silence, support work, and meetings that need everyone at once.",
         "Creative work, coordination and the endless email in between.",
         "Thinking, doing and talking, roughly."]
TAKE = ["I will block two mornings a week for focus time.", "Notifications off until noon.",
        "Ask before every meeting whether a written update would do.",
        "A shared rota so one person takes the interruptions and the others get focus time.",
        "Write decisions down so fewer people need to be in the room.",
        "Try one meeting-free day per week as a team and review it after a month."]
DETAIL = ["Last week I had eleven hours of meetings.", "Our team lead agrees, I think.",
          "It is hard with customers in three time zones.", "I tried this before and it lasted two weeks.",
          "Honestly this is the most useful thing we read this quarter.", "", "", ""]


def answer_texts(rng: random.Random) -> tuple[str, str, str]:
    def one(pool: list[str]) -> str:
        return " ".join(part for part in (rng.choice(pool), rng.choice(DETAIL), rng.choice(DETAIL)) if part)

    return one(RECOGNISE), one(KINDS), one(TAKE)


async def main() -> str:
    rng = random.Random(7)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        async with FakeOpenAI() as server:
            settings = Settings(database_url=url, openai_base_url=server.base_url, unmeet_llm_model="bench-model",
                                job_concurrency=64)
            clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
            deps = build_deps(settings, clock=clock)
            messenger = FakeMessenger()
            deps.messengers["slack"] = messenger
            author = messenger.add_person(WORKSPACE, "ULEAD", "Lea Lead", tz="Europe/Brussels")
            people = [messenger.add_person(WORKSPACE, f"U{n:05d}", f"Person {n}") for n in range(ANSWERS)]
            messenger.channels["CBENCH"] = [author.id] + [p.id for p in people]
            worker = build_worker(deps)
            shared = await rounds.share_insight(deps, author=author, data=ShareInput(
                title="Deep work, chapter 1", link="https://example.com/deep-work",
                questions=DEFAULT_QUESTIONS["en"], deadline=date(2026, 12, 4), share_mode=ShareMode.ANONYMOUS,
                channel_id="CBENCH"))
            if isinstance(shared, rounds.Confirm):
                await rounds.confirm_share(deps, author=author, round_id=int(shared.form.metadata))
            await worker.run_due()
            round_id = 1
            for person in people:
                await rounds.record_answer(deps, person=PersonRef(WORKSPACE, person.id), round_id=round_id,
                                           texts=answer_texts(rng))
            clock.advance(days=4)
            await worker.run_due()
            async with deps.db.transaction() as conn:
                summary = await repo.get_summary(conn, round_id)
            await deps.summariser.llm.client.aclose()
            await deps.db.dispose()
    for request in server.requests:
        print(f"  {request.prompt_id:22} prompt={request.prompt_tokens:6} completion={request.completion_tokens:5}")
    print(f"summary: kind={summary.kind} prompt={summary.prompt_id} themes={len(summary.body['themes'])} "
          f"in {time.monotonic() - started:.0f} s")
    return f"llm_cost: answers={ANSWERS} calls={server.calls} tokens={server.tokens}"


if __name__ == "__main__":
    print(asyncio.run(main()))
