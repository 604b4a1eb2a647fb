"""The coach's briefing prompt with its evaluation cases (English and Dutch): what reaches the model
(what the cohort shared, fenced, without a name of the cohort or the coach) and what code lets through
(themes and questions, no mentions). The model here is the loopback fake."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from core.llm.prompts import PROMPTS_DIR
from core.persistence.drivers_seat import DayRow, Task
from core.services import llm
from core.services.programmes import shared_text
from tests.fakes.openai_server import model_deps

CASES = sorted((PROMPTS_DIR / "programme_briefing" / "evals").glob("*.json"))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def shared_of(case: dict) -> str:
    runs = [[DayRow(n, 1, date(2026, 11, 23 + n), False, tuple(Task(kind, text, rating, why or None)
                                                             for kind, rating, text, why in day), NOW, NOW)
             for n, day in enumerate(run)] for run in case["runs"]]
    return shared_text(runs, case["one_things"], case["agreements"], (*case["participants"], case["coach"]))


def test_the_cases_are_english_and_dutch_with_checks():
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in CASES]
    assert {c["locale"] for c in cases} == {"en", "nl"}
    assert all(c["must"] and c["coach"] in c["must_not"] and all(p.split()[0] in c["must_not"]
                                                                 for p in c["participants"]) for c in cases)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
async def test_eval_cases_reach_the_model_without_names_and_come_back_clean(path: Path, database_url):
    case = json.loads(path.read_text(encoding="utf-8"))
    shared = shared_of(case)
    assert all(word in shared for word in case["must"])
    assert not any(word in shared for word in case["must_not"]) and "[person]" in shared
    async with model_deps(database_url, NOW) as (server, deps, workspace_id):
        briefing = await llm.programme_briefing(deps, workspace_id, shared, case["locale"])
        nothing = await llm.programme_briefing(deps, workspace_id, "  ", case["locale"])
    [call] = server.prompts("programme_briefing/v1")  # nothing shared: no call
    assert ("Dutch" if case["locale"] == "nl" else "English") in call.system
    assert "<<<SHARED" in call.user and not any(word in call.text for word in case["must_not"])
    assert briefing is not None and nothing is None
    assert len(briefing.themes) == len([w for w in case["must"] if w in shared])
    assert not any("<@" in x for x in briefing.themes + briefing.questions) and len(briefing.questions) == 2
