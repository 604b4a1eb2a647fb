"""The client over real HTTP: JSON mode, max_tokens, one repair, bounded retries, timeouts."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from core.config import Settings
from core.llm.client import LlmClient, LlmError
from core.llm.neutralise import neutralise, urls_in
from tests.fakes.openai_server import FakeOpenAI, Reply


class Reason(BaseModel):
    reason: str


@pytest.fixture
async def server():
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def client(server):
    client = LlmClient(Settings(openai_base_url=server.base_url, unmeet_llm_model="m1", unmeet_llm_timeout_seconds=0.5,
                                unmeet_llm_max_retries=1, unmeet_llm_max_output_tokens=321))
    yield client
    await client.aclose()


VARS = {"check": "Outcome: no meeting needed.", "language": "English"}


async def test_json_mode_max_tokens_and_the_prompt_id_go_with_every_call(client, server):
    result, usage = await client.complete_json("meeting_reason", "v1", VARS, Reason)
    assert result["reason"].startswith("The topic needs no decision")
    [request] = server.requests
    assert request.response_format == {"type": "json_object"} and request.max_tokens == 321
    assert request.model == "m1" and request.prompt_id == "meeting_reason/v1"
    assert (usage.calls, usage.tokens_in, usage.tokens_out) == (1, request.prompt_tokens, request.completion_tokens)


async def test_one_repair_with_the_problems_then_success(client, server):
    server.script(Reply(content={"why": "no"}), Reply(content='```json\n{"reason": "fixed"}\n```'))
    result, usage = await client.complete_json("meeting_reason", "v1", VARS, Reason)
    assert result == {"reason": "fixed"} and usage.calls == 2
    repair = server.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": '{"why": "no"}'}
    assert "reason: Field required" in repair[-1]["content"]


async def test_invalid_twice_raises_after_exactly_two_calls(client, server):
    server.script(Reply(content="no json"), Reply(content="still none"), Reply(content={"reason": "too late"}))
    with pytest.raises(LlmError) as raised:
        await client.complete_json("meeting_reason", "v1", VARS, Reason)
    assert server.calls == 2 and raised.value.usage.calls == 2


@pytest.mark.parametrize("status", [429, 500])
async def test_a_transient_failure_is_retried_once(client, server, status):
    server.script(Reply(status=status), Reply(content={"reason": "ok"}))
    result, _ = await client.complete_json("meeting_reason", "v1", VARS, Reason)
    assert result == {"reason": "ok"} and server.calls == 2


@pytest.mark.parametrize("reply", [Reply(status=500), Reply(status=429), Reply(delay=2)])
async def test_persistent_failures_and_timeouts_stop_after_the_bounded_retry(client, server, reply):
    server.script(*[reply] * 4)
    with pytest.raises(LlmError):
        await client.complete_json("meeting_reason", "v1", VARS, Reason)
    assert server.calls == 2


def test_neutralise_strips_mentions_links_and_images_but_keeps_the_answers_links():
    allowed = urls_in(["Read https://example.com/doc."])
    text = ("<!channel> <!here|here> <!subteam^S1> hi <@U123ABC> <#C1|general> <at>Bob</at> @everyone "
            "<https://evil.example/x|click> ![i](https://evil.example/i.png) [more](https://evil.example/m) "
            "<img src=x> https://evil.example/raw www.evil.example https://example.com/doc")
    out = neutralise(text, allowed)
    for forbidden in ("<!", "<@", "<#", "<at>", "@everyone", "evil.example", "<img", "]("):
        assert forbidden not in out
    assert "click" in out and "more" in out and "https://example.com/doc" in out
    assert neutralise("a\u200bb\u202e c  d", limit=None) == "ab c d"
    assert neutralise("word " * 100, limit=20).endswith("…") and len(neutralise("word " * 100, limit=20)) <= 21
