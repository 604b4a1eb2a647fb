"""The evaluation command runs the set in prompts/evals/ against an endpoint and prints a score."""

from __future__ import annotations

import io
import json
import re

from core.config import Settings
from core.llm.evals import EVALS_DIR, run
from tests.fakes.openai_server import Reply


def test_the_evaluation_set_is_english_and_dutch_with_checks():
    cases = [json.loads(p.read_text()) for p in EVALS_DIR.glob("*.json")]
    assert len(cases) >= 4
    assert {c["locale"][:2] for c in cases} == {"en", "nl"} and any(c["anonymous"] for c in cases)
    assert all(c["must"] and c["must_not"] and len(c["questions"]) == 3 for c in cases)


async def test_the_command_scores_the_set_against_the_endpoint(openai_server, tmp_path):
    settings = Settings(openai_base_url=openai_server.base_url, unmeet_llm_model="fake-model",
                        unmeet_llm_timeout_seconds=2, unmeet_llm_max_retries=0)
    out = io.StringIO()
    value = await run(settings, out=out)
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"llm-eval: model=fake-model score=\d\.\d\d \(\d+/\d+\)", lines[-1])
    assert 0.5 < value <= 1.0 and openai_server.calls == 4

    openai_server.script(*[Reply(status=500)] * 10)  # an endpoint that fails scores 0
    broken = io.StringIO()
    assert await run(settings, out=broken) == 0.0
    assert "offline fallback (endpoint_error)" in broken.getvalue()
