"""The draft agreement's prompt with its evaluation cases (English and Dutch): what reaches the model
and what code lets through. The model here is the loopback fake, which also invents a source."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.llm.prompts import PROMPTS_DIR
from core.services import llm
from tests.fakes.openai_server import model_deps

CASES = sorted((PROMPTS_DIR / "draft_agreement" / "evals").glob("*.json"))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
async def test_eval_cases_reach_the_model_fenced_and_come_back_cited_only_by_real_answers(path: Path, database_url):
    case = json.loads(path.read_text(encoding="utf-8"))
    async with model_deps(database_url, NOW) as (server, deps, workspace_id):
        groups = [[(n, answer[q], f"Person {n}") for n, answer in enumerate(case["answers"], start=1)]
                  for q in range(len(case["questions"]))]
        draft, note = await llm.draft_agreement(deps, workspace_id, case["questions"], groups, case["locale"])
    [call] = server.prompts("draft_agreement/v1")
    assert note is None and draft is not None
    assert ("Dutch" if case["locale"] == "nl" else "English") in call.system
    assert "<<<ANSWERS" in call.user and "Person 1" not in call.text  # no names go to the model
    real = set(range(1, len(case["answers"]) + 1))
    lines = [line for key in ("principles", "rules", "actions") for line in draft[key]]
    assert lines and all(set(line["sources"]) <= real and line["sources"] for line in lines)
    assert not any("Invented line" in line["text"] for line in lines)
    assert draft["prompt_id"] == "draft_agreement/v1" and draft["model"] == "fake-model"
