"""Errors that reach the logs (and jobs' last_error) carry no text people wrote and no token; metric labels
never carry a value from outside the known few."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from core import metrics


async def test_a_failed_statement_keeps_its_parameters_out_of_the_error(db):
    written = "What I really think of my manager"
    with pytest.raises(sa.exc.DBAPIError) as caught:
        async with db.transaction() as conn:
            await conn.execute(sa.text("INSERT INTO answers (id, texts) VALUES (:id, :texts)"),
                               {"id": "not a number", "texts": written})
    assert "INSERT INTO answers" in str(caught.value)  # the statement is still there to debug with
    assert written not in str(caught.value)
    assert written not in repr(caught.value)


def test_label_values_outside_the_known_ones_are_counted_as_other():
    def count(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = count("unmeet_requests_total", endpoint="slack_events", kind="other", status="200")
    assert metrics.request("slack_events", "Ann's secret <@U123>", 200, 0.01) == "other"
    assert count("unmeet_requests_total", endpoint="slack_events", kind="other", status="200") == before + 1
    before = count("unmeet_platform_calls_total", platform="slack", method="other")
    metrics.platform_call("slack", "chat.postMessage?token=xoxb-1")
    assert count("unmeet_platform_calls_total", platform="slack", method="other") == before + 1
    before = count("unmeet_jobs_total", kind="other", outcome="other")
    metrics.job_finished("made.up:U123", "exploded", 0.1)
    assert count("unmeet_jobs_total", kind="other", outcome="other") == before + 1
    before = count("unmeet_llm_calls_total", task="other", outcome="ok")
    metrics.llm_call("what people wrote/v1", ok=True, tokens_in=5)
    assert count("unmeet_llm_calls_total", task="other", outcome="ok") == before + 1
    assert "Ann's secret" not in metrics.exposition()[0].decode()
