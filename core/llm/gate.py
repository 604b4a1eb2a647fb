"""Who may use the model, and what it cost: workspace switches, daily token budgets, the ledger.

Every model call of the app goes through `Llm.complete`, which refuses when the workspace switched
the LLM off or spent its budget (`Unavailable`) and books the tokens of every call, failed or not.
Default (no row in `llm_settings`): on when an endpoint is configured, the server's model, the
server's daily budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from core.config import Settings
from core.llm.client import LlmClient, LlmError, Usage
from core.persistence import llm as store
from core.persistence.db import Database
from core.ports import Clock

NOT_CONFIGURED = "not_configured"
SWITCHED_OFF = "switched_off"
BUDGET = "budget"
ENDPOINT = "endpoint_error"
TOO_SLOW = "timeout"


class Unavailable(Exception):
    """The model may not be used now; `reason` is one of the constants above."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Access:
    configured: bool  # the server has an endpoint and a model
    enabled: bool  # the workspace's switch
    model: str
    daily_token_budget: int
    used_today: int

    @property
    def remaining(self) -> int:
        return max(0, self.daily_token_budget - self.used_today)

    def refusal(self, planned_tokens: int = 0) -> str | None:
        """Why a call of about `planned_tokens` may not go out now, or None."""
        if not self.configured:
            return NOT_CONFIGURED
        if not self.enabled:
            return SWITCHED_OFF
        if self.remaining <= 0 or planned_tokens > self.remaining:
            return BUDGET
        return None


class Llm:
    def __init__(self, db: Database, clock: Clock, settings: Settings, client: LlmClient | None):
        self.db = db
        self.clock = clock
        self.settings = settings
        self.client = client

    def today(self) -> date:
        return self.clock.now().date()  # the clock is UTC: budgets reset at 00:00 UTC

    async def access(self, workspace_id: int) -> Access:
        async with self.db.transaction() as conn:
            stored = await store.get_settings(conn, workspace_id)
            used = await store.tokens_used(conn, workspace_id, self.today())
        configured = self.client is not None
        return Access(
            configured=configured,
            enabled=configured if stored is None else configured and stored.enabled,
            model=(stored and stored.model) or self.settings.unmeet_llm_model,
            daily_token_budget=stored.daily_token_budget if stored and stored.daily_token_budget is not None
            else self.settings.unmeet_llm_daily_token_budget,
            used_today=used)

    async def complete(self, access: Access, workspace_id: int, task: str, version: str,
                       variables: dict[str, object], schema: type[BaseModel]) -> tuple[dict, Usage]:
        """One validated JSON answer, its tokens booked to the workspace. Raises `LlmError`."""
        assert self.client is not None, "check access.refusal() first"
        try:
            result, usage = await self.client.complete_json(task, version, variables, schema, model=access.model)
        except LlmError as error:
            await self.book(workspace_id, error.usage)
            raise
        await self.book(workspace_id, usage)
        return result, usage

    async def book(self, workspace_id: int, usage: Usage) -> None:
        if usage.calls:
            async with self.db.transaction() as conn:
                await store.add_usage(conn, workspace_id, self.today(), calls=usage.calls, tokens_in=usage.tokens_in,
                                      tokens_out=usage.tokens_out)
