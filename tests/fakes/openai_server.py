"""A loopback OpenAI-compatible server (`POST /v1/chat/completions`) for tests and benchmarks.

Point the app at it with `OPENAI_BASE_URL=server.base_url`. It records every request (messages,
model, max_tokens, response_format, the `X-Unmeet-Prompt` header), counts tokens the way the app
estimates them (characters / 4), and answers from a script, else with `smart_reply`: a
deterministic stand-in for a model that reads the fenced data and answers in the task's JSON with
labels and quotes taken verbatim from that data.

    async with FakeOpenAI() as llm:
        llm.script(Reply(status=500), Reply(content={"headline": …}), Reply(delay=5))
        …
        assert llm.calls == 3 and "ANSWERS" in llm.requests[0].user

A `Reply` is one response: `content` (dict -> JSON, str as is; None -> `smart_reply`), `status`
(429 answers with `Retry-After: 0`; 4xx/5xx with an OpenAI error body) and `delay` in seconds
(longer than the client's timeout = a timeout). Scripted replies are used in order, then the
`default` reply (normally `Reply()`, i.e. `smart_reply`).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.persistence import repository as repo
from core.persistence.db import Database
from core.ports import FixedClock


def approx_tokens(text: str) -> int:
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class Reply:
    content: dict | str | None = None
    status: int = 200
    delay: float = 0.0


@dataclass
class Recorded:
    prompt_id: str | None
    model: str
    messages: list[dict]
    max_tokens: int | None
    response_format: dict | None
    prompt_tokens: int
    completion_tokens: int = 0
    status: int = 200

    @property
    def system(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "system")

    @property
    def user(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "user")

    @property
    def text(self) -> str:
        return "\n".join(m["content"] for m in self.messages)


@dataclass
class FakeOpenAI:
    default: Reply = field(default_factory=Reply)
    requests: list[Recorded] = field(default_factory=list)
    _script: deque = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    def script(self, *replies: Reply) -> None:
        self._script.extend(replies)

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def tokens(self) -> int:
        return sum(r.prompt_tokens + r.completion_tokens for r in self.requests)

    def prompts(self, prompt_id: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if prompt_id is None or r.prompt_id == prompt_id]

    async def __aenter__(self) -> "FakeOpenAI":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        messages = body["messages"]
        recorded = Recorded(request.headers.get("X-Unmeet-Prompt"), body.get("model", ""), messages,
                            body.get("max_tokens") or body.get("max_completion_tokens"), body.get("response_format"),
                            sum(approx_tokens(m.get("content") or "") for m in messages))
        self.requests.append(recorded)
        reply = self._script.popleft() if self._script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            recorded.status = reply.status
            headers = {"Retry-After": "0"} if reply.status == 429 else {}
            return web.json_response({"error": {"message": "scripted failure", "type": "server_error",
                                                "code": reply.status}}, status=reply.status, headers=headers)
        content = reply.content
        if content is None:
            content = smart_reply(recorded)
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        recorded.completion_tokens = approx_tokens(text)
        return web.json_response({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": recorded.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": recorded.prompt_tokens, "completion_tokens": recorded.completion_tokens,
                      "total_tokens": recorded.prompt_tokens + recorded.completion_tokens}})


# --- a deterministic "model" -------------------------------------------------------------------------
_WORD = re.compile(r"[^\W\d_]{4,}")
_DULL = set("""that this with have from they what your about will into which their there would been when were
more also some just than them very much like only over such because where these those other could should
dat niet voor met zijn maar ook heel echt wordt hebben worden waar zoals""".split())


def fenced(text: str, name: str) -> str:
    match = re.search(rf"<<<{name}\n(.*?)\n{name}>>>", text, re.DOTALL)
    return match.group(1) if match else ""


def parse_answers(block: str) -> dict[str, list[str]]:
    """`A7\\n1. text\\n2. text` blocks -> {"A7": [texts]}."""
    answers: dict[str, list[str]] = {}
    for chunk in block.split("\n\n"):
        lines = chunk.strip().splitlines()
        if lines and re.fullmatch(r"A\d+", lines[0]):
            answers[lines[0]] = [re.sub(r"^\d+\. ", "", line) for line in lines[1:]]
    return answers


def _quote_from(text: str, word: str) -> str:
    piece = next((p for p in text.split("…") if word in p.lower()), text.split("…")[0])
    return " ".join(piece.split()[:14]).strip()


def smart_reply(request: Recorded) -> dict[str, Any]:
    task = (request.prompt_id or "").split("/")[0]
    user = request.user
    if task in ("summarize_round", "summarize_batch"):
        answers = parse_answers(fenced(user, "ANSWERS"))
        counts: Counter = Counter()
        for texts in answers.values():
            counts.update({w.lower() for w in _WORD.findall(" ".join(texts))} - _DULL)
        themes = []
        for word, _n in counts.most_common(5):
            holders = [label for label, texts in answers.items() if word in " ".join(texts).lower()]
            quotes = [{"answer": label, "text": _quote_from(next(t for t in answers[label] if word in t.lower()), word)}
                      for label in holders[:2]]
            themes.append({"label": word.capitalize(), "answers": holders, "quotes": quotes})
        result: dict[str, Any] = {"themes": themes, "disagreements": ["Some want more of it, others less."],
                                  "open_questions": ["Who decides what comes first?"]}
        if task == "summarize_round":
            result |= {"headline": f"{len(answers)} answers; most mention {', '.join(t['label'] for t in themes[:2])}.",
                       "next_step": "Talk about it for ten minutes at the next team check-in."}
        return result
    if task == "merge_summaries":
        notes = fenced(user, "NOTES")
        merged: dict[str, dict] = {}
        current = None
        for line in notes.splitlines():
            head = re.match(r"(T\d+) \((\d+) people\): (.*)", line)
            quote = re.match(r'\s+(A\d+): "(.*)"$', line)
            if head:
                current = merged.setdefault(head.group(3).lower(), {"label": head.group(3), "sources": [], "quotes": []})
                current["sources"].append(head.group(1))
            elif quote and current is not None and len(current["quotes"]) < 3:
                current["quotes"].append({"answer": quote.group(1), "text": quote.group(2)})
        themes = sorted(merged.values(), key=lambda t: -len(t["sources"]))[:6]
        return {"headline": f"Most mention {', '.join(t['label'] for t in themes[:2])}.", "themes": themes,
                "disagreements": ["Some want more of it, others less."],
                "open_questions": ["Who decides what comes first?"],
                "next_step": "Talk about it for ten minutes at the next team check-in."}
    if task == "draft_insight":
        notes = [line.strip("-• ").strip() for line in fenced(user, "NOTES").splitlines() if line.strip()]
        return {"title": (notes[0] if notes else "An insight")[:80],
                "post": "Take a moment this week to read this in your own time. " + " ".join(notes[1:3]),
                "questions": ["Where do you recognise yourself in this?",
                              "Which three kinds of work do you see in it?",
                              "What will you take into your own work?"]}
    if task == "draft_agreement":  # one line per answer's first sentence, citing it; one invented source
        answers = parse_answers(fenced(user, "ANSWERS"))
        labels = [int(label[1:]) for label in answers]
        first = {int(label[1:]): texts[0][:120] for label, texts in answers.items()}
        return {"principles": [{"text": "We respect each other's focus time.", "sources": labels[:2]}],
                "rules": [{"text": first[n], "sources": [n]} for n in labels] +
                         [{"text": "Invented line with no real answer behind it.", "sources": [99]}],
                "actions": [{"text": "Keep a stuck log for 10 working days.", "sources": labels[-1:]}]}
    if task == "decision_rights":  # a rule per kind given, one with a mention, one for a kind never asked about
        kinds = [line.split(":")[0].strip() for line in fenced(user, "GROUPS").splitlines() if line.strip()]
        return {"rules": [{"kind": kind, "text": f"For {kind}, the team lead decides within a day <!here>"}
                          for kind in kinds] + [{"kind": "lunch", "text": "Invented rule about lunch."}]}
    if task == "draft_feedback":  # the first green task as the strength; an @mention code must take out
        lines = [line[2:] for line in fenced(user, "ENTRIES").splitlines() if line.startswith("- ")]
        green = next((line.split(": ", 1)[1] for line in lines if ", green:" in line), "your planning")
        red = Counter(line.split(",")[0] for line in lines if ", red:" in line).most_common(1)
        return {"strength": f"You got “{green}” done.",
                "pattern": f"Your {red[0][0] if red else 'reactive'} tasks turned red most often. <@U1>",
                "suggestion": "Next week, plan one reactive block right after lunch."}
    if task == "programme_briefing":  # a theme per part shared, one with a mention code must take out
        parts = [part.splitlines()[0] for part in fenced(user, "SHARED").split("\n\n") if part.strip()]
        return {"themes": [f"From “{part}”: proactive work turned red when meetings ran over. <@U1>" for part in parts][:4],
                "questions": ["What made the green days green?", "Which rule will you keep first?"]}
    if task == "meeting_reason":
        return {"reason": "The topic needs no decision together, so a written round works: " +
                fenced(user, "CHECK").splitlines()[0][:120]}
    return {"error": f"unknown task {task!r}"}


@asynccontextmanager
async def model_deps(database_url: str, now: datetime):
    """The app's deps against this loopback model, with one Slack workspace: (server, deps, workspace id)."""
    async with FakeOpenAI() as server:
        settings = Settings(openai_base_url=server.base_url, openai_api_key="", unmeet_llm_model="fake-model",
                            unmeet_llm_timeout_seconds=2.0, database_url=database_url)
        deps = build_deps(settings, clock=FixedClock(now), db=Database(database_url))
        try:
            async with deps.db.transaction() as conn:
                workspace_id = await repo.ensure_workspace(conn, WorkspaceRef("slack", "T1"), now=now)
            yield server, deps, workspace_id
        finally:
            await deps.close()
