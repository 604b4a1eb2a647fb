"""The only module that imports `openai`: one AsyncOpenAI client for any OpenAI-compatible endpoint
(OpenAI, Azure-compatible proxies, Ollama, vLLM, LM Studio, llama.cpp's server).

Every call has a timeout, a `max_tokens` and the SDK's bounded retry count. Answers are JSON
(`response_format=json_object`), checked in code against a pydantic model; one repair attempt sends
the problems back, then `LlmError` tells the caller to use its offline fallback.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from core import metrics
from core.config import Settings
from core.llm.prompts import load

log = logging.getLogger("unmeet.llm")

_FENCED = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def approx_tokens(text: str) -> int:
    """About four characters a token: enough to plan batches and budgets without a tokenizer."""
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class Usage:
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.calls + other.calls, self.tokens_in + other.tokens_in, self.tokens_out + other.tokens_out)

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


class LlmError(Exception):
    """The endpoint failed (after the bounded retries) or gave no valid answer after one repair.
    `usage` is what was spent anyway, so budgets stay honest."""

    def __init__(self, message: str, usage: Usage = Usage()):
        super().__init__(message)
        self.usage = usage


def _problems(error: ValidationError) -> str:
    """The validation errors without the model's text echoed back (it may be long)."""
    lines = [f"- {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()[:12]]
    return "\n".join(lines)


class LlmClient:
    def __init__(self, settings: Settings):
        self.model = settings.unmeet_llm_model
        self.max_tokens = settings.unmeet_llm_max_output_tokens
        import openai  # here, not at the top: it takes seconds to import and most processes never call a model

        self._api_error = openai.APIError
        self._client = openai.AsyncOpenAI(
            base_url=settings.openai_base_url or "https://api.openai.com/v1",
            api_key=settings.openai_api_key or "unused",  # self-hosted servers accept any key
            timeout=settings.unmeet_llm_timeout_seconds,
            max_retries=settings.unmeet_llm_max_retries,
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def complete_json(self, task: str, prompt_version: str, variables: dict[str, object],
                            schema: type[BaseModel], *, model: str | None = None,
                            max_tokens: int | None = None) -> tuple[dict, Usage]:
        """Render `prompts/<task>/<version>.md`, ask for JSON, validate it against `schema`."""
        prompt = load(f"{task}/{prompt_version}")
        messages = prompt.render(variables)
        usage = Usage()
        for attempt in (1, 2):
            text, spent = await self._call(prompt.id, messages, model or self.model, max_tokens or self.max_tokens)
            usage += spent
            try:
                return schema.model_validate_json(_unfenced(text)).model_dump(), usage
            except ValidationError as error:
                log.warning("%s: invalid JSON from the model (attempt %d): %s", prompt.id, attempt,
                            error.error_count())
                if attempt == 2:
                    raise LlmError(f"{prompt.id}: no valid JSON after one repair", usage) from error
                repair = load("repair_json/v1").render({"errors": _problems(error)})
                messages = messages + [{"role": "assistant", "content": text[: self.max_tokens * 4]}] + repair
        raise AssertionError("unreachable")

    async def _call(self, prompt_id: str, messages: list[dict], model: str, max_tokens: int) -> tuple[str, Usage]:
        try:
            response = await self._client.chat.completions.create(
                model=model, messages=messages, max_tokens=max_tokens, temperature=0.2,
                response_format={"type": "json_object"}, extra_headers={"X-Unmeet-Prompt": prompt_id})
        except self._api_error as error:  # the SDK already retried 429/5xx/connection errors
            metrics.llm_call(prompt_id, ok=False)
            raise LlmError(f"{prompt_id}: {type(error).__name__}: {error}", Usage(calls=1)) from error
        text = (response.choices[0].message.content or "") if response.choices else ""
        if response.usage is not None:
            spent = Usage(1, response.usage.prompt_tokens or 0, response.usage.completion_tokens or 0)
        else:  # some self-hosted servers leave usage out
            spent = Usage(1, sum(approx_tokens(m["content"]) for m in messages), approx_tokens(text))
        metrics.llm_call(prompt_id, ok=True, tokens_in=spent.tokens_in, tokens_out=spent.tokens_out)
        return text, spent


def _unfenced(text: str) -> str:
    """Some local models wrap JSON in ``` fences even in JSON mode."""
    match = _FENCED.match(text)
    return match.group(1) if match else text
