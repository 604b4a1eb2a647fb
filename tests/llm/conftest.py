"""Fixtures for the LLM tests: the loopback OpenAI-compatible server and settings pointing at it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.llm.client import LlmClient
from core.llm.gate import Llm
from core.llm.summariser import LlmSummariser
from core.persistence import repository as repo
from core.ports import FixedClock
from tests.fakes.openai_server import FakeOpenAI

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def openai_server():
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
def llm_settings(openai_server, database_url):
    return Settings(openai_base_url=openai_server.base_url, openai_api_key="", unmeet_llm_model="fake-model",
                    unmeet_llm_timeout_seconds=1.0, unmeet_llm_max_retries=1, database_url=database_url)


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
async def llm(db, clock, llm_settings):
    llm = Llm(db, clock, llm_settings, LlmClient(llm_settings))
    yield llm
    await llm.client.aclose()


@pytest.fixture
def summariser(llm):
    return LlmSummariser(llm)


@pytest.fixture
async def workspace_id(db):
    async with db.transaction() as conn:
        return await repo.ensure_workspace(conn, WorkspaceRef("slack", "T1"), now=NOW)
