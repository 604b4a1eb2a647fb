"""`python -m core.llm.evals [folder]`: summarise the evaluation rounds in `prompts/evals/` with the
configured endpoint (OPENAI_BASE_URL, OPENAI_API_KEY, UNMEET_LLM_MODEL) and print a score — for
whoever changes a prompt or a model.

Each round scores its checks: the summary came from the model (not the offline fallback), every
`must` term appears in what the model wrote, no `must_not` term does. Token use goes to a throwaway
SQLite database, never the app's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.domain.summary import AnswerText, SummaryInput, SummaryResult
from core.llm.client import LlmClient
from core.llm.gate import Llm
from core.llm.prompts import PROMPTS_DIR
from core.llm.summariser import LlmSummariser
from core.persistence import repository as repo
from core.persistence.db import Database
from core.persistence.migrate import upgrade
from core.ports import SystemClock

EVALS_DIR = PROMPTS_DIR / "evals"


@dataclass(frozen=True)
class Score:
    name: str
    passed: int
    checks: int
    failures: tuple[str, ...]


def written(summary: SummaryResult) -> str:
    """Everything the model wrote (quotes included), as one text to search."""
    parts = [summary.headline, *summary.disagreements, *summary.open_questions, summary.next_step or ""]
    for theme in summary.themes:
        parts += [theme.label, *(q.text for q in theme.quotes)]
    return "\n".join(parts)


def score(case: dict, summary: SummaryResult) -> Score:
    failures = []
    if summary.kind != "llm":
        failures.append(f"offline fallback ({summary.fallback_reason})")
        return Score(case["name"], 0, 1 + len(case["must"]) + len(case["must_not"]), tuple(failures))
    text = written(summary).lower()
    failures += [f"missing {term!r}" for term in case["must"] if term.lower() not in text]
    failures += [f"contains {term!r}" for term in case["must_not"] if term.lower() in text]
    checks = 1 + len(case["must"]) + len(case["must_not"])
    return Score(case["name"], checks - len(failures), checks, tuple(failures))


def summary_input(case: dict, number: int, workspace_id: int) -> SummaryInput:
    answers = tuple(AnswerText(i, None if case["anonymous"] else f"Person {i}", tuple(texts))
                    for i, texts in enumerate(case["answers"], start=1))
    return SummaryInput(number, workspace_id, case["title"], case["locale"], case["anonymous"],
                        tuple(case["questions"]), answers, len(answers) + 2)


async def run(settings: Settings, folder: Path = EVALS_DIR, out=sys.stdout) -> float:
    if not settings.llm_configured:
        raise SystemExit("set OPENAI_BASE_URL (or OPENAI_API_KEY) and UNMEET_LLM_MODEL first")
    cases = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'evals.db'}"
        await asyncio.to_thread(upgrade, url)
        db, client = Database(url), LlmClient(settings)
        try:
            async with db.transaction() as conn:
                workspace_id = await repo.ensure_workspace(conn, WorkspaceRef("eval", "eval"),
                                                           now=datetime.now(timezone.utc))
            summariser = LlmSummariser(Llm(db, SystemClock(), settings, client))
            scores = []
            for number, case in enumerate(cases, start=1):
                result = score(case, await summariser.summarise(summary_input(case, number, workspace_id)))
                scores.append(result)
                status = "ok" if not result.failures else "; ".join(result.failures)
                print(f"{result.passed}/{result.checks}  {result.name}: {status}", file=out)
        finally:
            await client.aclose()
            await db.dispose()
    passed, checks = sum(s.passed for s in scores), sum(s.checks for s in scores)
    value = passed / checks if checks else 0.0
    print(f"llm-eval: model={settings.unmeet_llm_model} score={value:.2f} ({passed}/{checks})", file=out)
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.llm.evals", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=EVALS_DIR, help="a folder of evaluation rounds")
    args = parser.parse_args(argv)
    asyncio.run(run(Settings(), args.folder))


if __name__ == "__main__":
    main()
