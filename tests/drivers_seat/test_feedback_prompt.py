"""The coach's "Draft feedback" prompt with its evaluation cases (English and Dutch): what reaches the
model (the week's entries, fenced, without the participant's name) and what code lets through (three
parts, no mentions or links). The model here is the loopback fake."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.llm.prompts import PROMPTS_DIR
from core.persistence import repository as repo
from core.persistence.db import Database
from core.persistence.drivers_seat import DayRow, Task
from core.ports import FixedClock
from core.services import llm
from core.services.drivers_seat import week_entries
from tests.fakes.openai_server import model_deps

CASES = sorted((PROMPTS_DIR / "draft_feedback" / "evals").glob("*.json"))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def rows_of(case: dict) -> list[DayRow]:
    return [DayRow(n, 1, date(2026, 11, 23 + n), False, tuple(Task(kind, text, rating, why or None)
                                                              for kind, rating, text, why in day), NOW, NOW)
            for n, day in enumerate(case["days"])]


def test_the_cases_are_english_and_dutch_with_checks():
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in CASES]
    assert {c["locale"] for c in cases} == {"en", "nl"}
    assert all(c["must"] and c["must_not"] and c["participant"] in c["must_not"] for c in cases)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
async def test_eval_cases_reach_the_model_without_names_and_come_back_as_three_clean_parts(path: Path, database_url):
    case = json.loads(path.read_text(encoding="utf-8"))
    entries = week_entries(rows_of(case), (case["participant"],))
    assert case["participant"] not in entries and "[person]" in entries
    async with model_deps(database_url, NOW) as (server, deps, workspace_id):
        assert await llm.can_draft(deps, workspace_id)
        draft = await llm.draft_feedback(deps, workspace_id, entries, case["locale"])
    [call] = server.prompts("draft_feedback/v1")
    assert ("Dutch" if case["locale"] == "nl" else "English") in call.system
    assert "<<<ENTRIES" in call.user and case["participant"] not in call.text
    assert draft is not None and len(draft.split("\n\n")) == 3
    assert all(word in draft for word in case["must"])
    assert not any(word in draft for word in case["must_not"])


async def test_without_a_model_there_is_no_draft(database_url):
    settings = Settings(openai_base_url="", database_url=database_url)
    deps = build_deps(settings, clock=FixedClock(NOW), db=Database(database_url))
    try:
        async with deps.db.transaction() as conn:
            workspace_id = await repo.ensure_workspace(conn, WorkspaceRef("slack", "T1"), now=NOW)
        assert not await llm.can_draft(deps, workspace_id)
        assert await llm.draft_feedback(deps, workspace_id, "Day 1\n- proactive, green: x", "en") is None
    finally:
        await deps.close()
