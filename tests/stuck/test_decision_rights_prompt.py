"""The decision-rights prompt with its evaluation cases (English and Dutch): only counts reach the model,
and code lets through one neutralised rule per kind that was asked about. The model here is the loopback
fake, which also answers for a kind nobody asked about and puts a mention in every rule."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.domain.stuck import Entry
from core.llm.prompts import PROMPTS_DIR
from core.persistence import repository as repo
from core.persistence.db import Database
from core.ports import FixedClock
from core.services import llm, stuck
from tests.fakes.openai_server import model_deps

CASES = sorted((PROMPTS_DIR / "decision_rights" / "evals").glob("*.json"))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
async def test_eval_cases_reach_the_model_as_counts_and_come_back_one_rule_per_kind(path: Path, database_url):
    case = json.loads(path.read_text(encoding="utf-8"))
    report = stuck.figures(10, [Entry(*entry) for entry in case["entries"]])
    async with model_deps(database_url, NOW) as (server, deps, workspace_id):
        rules = await llm.decision_rights(deps, workspace_id, report["groups"], case["locale"])
    [call] = server.prompts("decision_rights/v1")
    assert ("Dutch" if case["locale"] == "nl" else "English") in call.system
    assert "<<<GROUPS" in call.user and f"stuck {report['groups'][0]['count']} times" in call.user
    assert sorted(rules) == sorted(case["must_kinds"])
    for text in rules.values():
        assert text and len(text) <= 200
        assert not any(term in text for term in case["must_not"]) and "<!here>" not in text


async def test_without_the_model_there_is_no_draft(database_url):
    deps = build_deps(Settings(database_url=database_url), clock=FixedClock(NOW), db=Database(database_url))
    try:
        async with deps.db.transaction() as conn:
            workspace_id = await repo.ensure_workspace(conn, WorkspaceRef("slack", "T1"), now=NOW)
        report = stuck.figures(10, [Entry("budget", "no", "day")])
        assert await llm.decision_rights(deps, workspace_id, report["groups"], "en") is None
    finally:
        await deps.close()
