"""The round summary written by a model — map-reduce for large rounds, the offline summary otherwise.

What the model sees: the title, the questions and the answers under neutral labels (A1, A2, …) —
never names or platform ids, in any round — so it can't leak who said what, and nothing of any
other round. What code decides, not the model: how many people raised a theme (from the labels the
model cites), which quotes are kept (only words that appear verbatim in the cited answer of this
round), who a quote belongs to (from our own records, and never in anonymous rounds), and that
every string is plain text (`neutralise`).

Large rounds: answers are cut to `ANSWER_CAP` characters before anything else, then condensed to
their most representative sentences until they fit the summary's token budget; batches of at most
`UNMEET_LLM_CONTEXT_TOKENS` go to `summarize_batch` (the map step) and one `merge_summaries` call
(the reduce step) writes the summary. If even the shortest excerpts don't fit, an evenly spread
sample of answers is summarised and theme counts are scaled to the whole round (`extra["sampled"]`).

Any refusal (switched off, budget) or failure (endpoint down, timeout, invalid JSON after a repair)
gives the offline summary with `fallback_reason` set, so the round still closes on time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from core import metrics
from core.domain.summary import AnswerText, QuestionSummary, Quote, SummaryInput, SummaryResult, Theme
from core.llm import gate
from core.llm.client import LlmError, Usage, approx_tokens
from core.llm.gate import Llm
from core.llm.neutralise import neutralise, urls_in
from core.llm.offline import OfflineSummariser, terms, trim
from core.llm.prompts import load
from core.messages.i18n import resolve

log = logging.getLogger("unmeet.llm")

ANSWER_CAP = 4000  # characters of one answer the summariser ever reads (a 200,000-char answer stops here)
EXCERPT_MIN = 60  # characters per answer text below which excerpts say too little: sample instead
MAP_CALLS_MAX = 4  # batches of a large round, plus one merge call
NOTE_TOKENS = 700  # what one batch's notes cost in the merge prompt (planning estimate)
THEMES_MAX = 6
QUOTES_MAX = 3
QUOTE_MIN_CHARS = 12
QUOTE_MAX_CHARS = 280
LANGUAGES = {"en": "English", "nl": "Dutch (Nederlands)"}
ROUND_PROMPT, BATCH_PROMPT, MERGE_PROMPT = "summarize_round/v1", "summarize_batch/v1", "merge_summaries/v1"

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_QUOTE_EDGES = "\"“”„'‘’«»…. "


# --- what the model must answer -------------------------------------------------------------------
class QuoteOut(BaseModel):
    answer: str
    text: str


class ThemeOut(BaseModel):
    label: str
    answers: list[str] = Field(default_factory=list)
    quotes: list[QuoteOut] = Field(default_factory=list)


class BatchOut(BaseModel):
    themes: list[ThemeOut]
    disagreements: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)


class RoundOut(BatchOut):
    headline: str
    next_step: str = ""


class MergedTheme(BaseModel):
    label: str
    sources: list[str] = Field(default_factory=list)
    quotes: list[QuoteOut] = Field(default_factory=list)


class MergeOut(BaseModel):
    headline: str
    themes: list[MergedTheme]
    disagreements: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    next_step: str = ""


# --- preparing the answers --------------------------------------------------------------------------
def capped(text: str) -> str:
    """Whitespace-normalised and at most `ANSWER_CAP` characters; never looks past twice that."""
    return trim(text[: ANSWER_CAP * 2], ANSWER_CAP)


def excerpt(text: str, limit: int, weights: Counter) -> str:
    """The sentences of `text` that share most terms with the other answers, in their order, within
    `limit` characters. Every piece is verbatim, so quotes taken from it are verbatim too."""
    if len(text) <= limit:
        return text
    sentences = [s for s in _SENTENCE_END.split(text) if s]

    def score(index: int) -> float:
        words = terms(sentences[index])
        return sum(weights[w] for w in words) / math.sqrt(len(words) + 1)

    chosen, used = [], 0
    for index in sorted(range(len(sentences)), key=lambda i: (-score(i), i)):
        if used + len(sentences[index]) + 3 <= limit:
            chosen.append(index)
            used += len(sentences[index]) + 3
    if not chosen:
        best = min(range(len(sentences)), key=lambda i: (-score(i), i))
        return trim(sentences[best], limit)
    chosen.sort()
    pieces = ["…"] if chosen[0] > 0 else []
    for position, index in enumerate(chosen):
        if position and index != chosen[position - 1] + 1:
            pieces.append("…")
        pieces.append(sentences[index])
    if chosen[-1] < len(sentences) - 1:
        pieces.append("…")
    return " ".join(pieces)


@dataclass(frozen=True)
class Entry:
    label: str
    answer: AnswerText
    texts: tuple[str, ...]  # whole (capped) answers; condensed ones when the round is large

    def render(self) -> str:
        lines = [self.label] + [f"{i}. {text}" for i, text in enumerate(self.texts, start=1) if text]
        return "\n".join(lines)


def _entries(data: SummaryInput) -> list[Entry]:
    return [Entry(f"A{n}", answer, tuple(capped(t) for t in answer.texts))
            for n, answer in enumerate(data.answers, start=1)]


def _size(entries: list[Entry], limit: int | None = None) -> int:
    """Tokens the entries take in a prompt when each text is cut to `limit` characters."""
    chars = 0
    for entry in entries:
        chars += len(entry.label) + 1 + sum(min(len(t), limit or len(t)) + 5 for t in entry.texts if t)
    return approx_tokens("x" * chars)


def _condense(entries: list[Entry], budget: int) -> tuple[list[Entry], int | None]:
    """Shorten (and, if need be, sample) the entries to about `budget` tokens.
    Returns the entries and the excerpt length used (None: nothing cut)."""
    if _size(entries) <= budget:
        return entries, None
    if _size(entries, EXCERPT_MIN) > budget:
        keep = max(1, int(len(entries) * budget / _size(entries, EXCERPT_MIN)))
        step = len(entries) / keep
        entries = [entries[int(i * step)] for i in range(keep)]
    low, high = EXCERPT_MIN, max(len(t) for e in entries for t in e.texts)
    while low < high:  # the longest cut that fits
        middle = (low + high + 1) // 2
        if _size(entries, middle) <= budget:
            low = middle
        else:
            high = middle - 1
    questions = max(len(e.texts) for e in entries)
    weights = [Counter() for _ in range(questions)]
    for entry in entries:
        for index, text in enumerate(entry.texts):
            weights[index].update(terms(text))
    return [Entry(e.label, e.answer, tuple(excerpt(t, low, weights[i]) for i, t in enumerate(e.texts)))
            for e in entries], low


def _batches(entries: list[Entry], capacity: int) -> list[list[Entry]]:
    """Consecutive batches of about equal size, none above `capacity` tokens."""
    total = _size(entries)
    count = max(1, math.ceil(total / capacity))
    target = total / count
    batches: list[list[Entry]] = [[]]
    for entry in entries:
        size = _size([entry])
        current = _size(batches[-1])
        if batches[-1] and (current + size > capacity or (current >= target and len(batches) < count)):
            batches.append([])
        batches[-1].append(entry)
    return batches


# --- checking what came back -------------------------------------------------------------------------
def _normal(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Checker:
    """Checks the model's references against this round's answers: labels, counts, verbatim quotes."""

    data: SummaryInput
    entries: list[Entry]
    by_label: dict[str, Entry] = field(init=False)
    allowed_urls: frozenset[str] = field(init=False)

    def __post_init__(self):
        self.by_label = {e.label: e for e in self.entries}
        self.allowed_urls = urls_in(t for a in self.data.answers for t in a.texts)

    def labels(self, cited: list[str]) -> set[str]:
        return {c.strip() for c in cited if c.strip() in self.by_label}

    def quote(self, quote: dict) -> tuple[str, str] | None:
        """(label, verbatim text) if the quote's words are in the answer it names — or, cited under
        the wrong label, in another answer of this round; else None."""
        text = _normal(quote["text"]).strip(_QUOTE_EDGES)
        if len(text) < QUOTE_MIN_CHARS or "…" in text:
            return None
        label = quote["answer"].strip()
        candidates = [label] if label in self.by_label else []
        candidates += [e.label for e in self.entries if e.label != label]
        for candidate in candidates:
            if any(text in _normal(t) for t in self.by_label[candidate].answer.texts):
                return candidate, text
        return None

    def make_quote(self, label: str, text: str) -> Quote:
        answer = self.by_label[label].answer
        return Quote(trim(neutralise(text, self.allowed_urls), QUOTE_MAX_CHARS), answer.answer_id,
                     None if self.data.anonymous else answer.author, answer.link)

    def text(self, value: str, limit: int) -> str:
        return neutralise(value, self.allowed_urls, limit=limit)

    def items(self, values: list[str], limit: int = 4) -> tuple[str, ...]:
        cleaned = (self.text(v, 300) for v in values)
        return tuple(v for v in cleaned if v)[:limit]


def _quotes(checker: Checker, raw: list[dict], extra: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for quote in raw:
        checked = checker.quote(quote)
        if checked and checked[1] not in {t for _, t in found}:
            found.append(checked)
    for label, text in extra:  # top up from the batches' checked quotes
        if len(found) >= 2:
            break
        if text not in {t for _, t in found}:
            found.append((label, text))
    return found[:QUOTES_MAX]


# --- the summariser ----------------------------------------------------------------------------------
class LlmSummariser:
    """The Summariser port with a model; `llm` is also how services reach the model (drafting)."""

    def __init__(self, llm: Llm, fallback: OfflineSummariser | None = None):
        self.llm = llm
        self.fallback = fallback or OfflineSummariser()

    async def summarise(self, data: SummaryInput) -> SummaryResult:
        if not data.answers:
            return await self.fallback.summarise(data)
        try:
            async with asyncio.timeout(self.llm.settings.unmeet_llm_summary_seconds):
                return await self._summarise(data)
        except gate.Unavailable as refused:
            reason = refused.reason
        except LlmError as error:
            log.warning("round %s: LLM summary failed, using the offline one: %s", data.round_id, error)
            reason = gate.ENDPOINT
        except TimeoutError:
            log.warning("round %s: LLM summary took too long, using the offline one", data.round_id)
            reason = gate.TOO_SLOW
        metrics.llm_fallback("summarize_round", reason)
        return await self.fallback.summarise(data, reason=reason)

    async def _summarise(self, data: SummaryInput) -> SummaryResult:
        settings = self.llm.settings
        language = LANGUAGES[resolve(data.locale)]
        entries = _entries(data)
        common = {"title": data.title, "questions": "\n".join(f"{i}. {q}" for i, q in enumerate(data.questions, 1)),
                  "language": language}
        access = await self.llm.access(data.workspace_id)
        single = _prompt_tokens(ROUND_PROMPT, {**common, "count": len(entries), "answers": ""})
        if single + _size(entries) <= min(settings.unmeet_llm_context_tokens, settings.unmeet_llm_summary_tokens):
            self._check(access, single + _size(entries))
            result, usage = await self.llm.complete(access, data.workspace_id, *ROUND_PROMPT.split("/"),
                                                    {**common, "count": len(entries),
                                                     "answers": "\n\n".join(e.render() for e in entries)},
                                                    RoundOut)
            return self._single(data, entries, result, usage, access.model)
        return await self._map_reduce(data, entries, common, access)

    def _check(self, access: gate.Access, planned: int) -> None:
        if (reason := access.refusal(planned)) is not None:
            raise gate.Unavailable(reason)

    def _single(self, data: SummaryInput, entries: list[Entry], result: dict, usage: Usage,
                model: str) -> SummaryResult:
        checker = Checker(data, entries)
        themes = []
        for raw in result["themes"]:
            quotes = _quotes(checker, raw["quotes"])
            people = checker.labels(raw["answers"]) | {label for label, _ in quotes}
            label = checker.text(raw["label"], 80)
            if people and label:
                themes.append(Theme(label, len(people), tuple(checker.make_quote(*q) for q in quotes)))
        return self._result(data, checker, result, themes, usage, model, ROUND_PROMPT, sampled=None)

    async def _map_reduce(self, data: SummaryInput, entries: list[Entry], common: dict,
                          access: gate.Access) -> SummaryResult:
        settings = self.llm.settings
        overhead = _prompt_tokens(BATCH_PROMPT, {**common, "batch": 1, "batches": MAP_CALLS_MAX, "count": 0,
                                                 "answers": ""})
        merge = _prompt_tokens(MERGE_PROMPT, {**common, "count": 0, "batches": MAP_CALLS_MAX, "notes": ""})
        capacity = settings.unmeet_llm_context_tokens - overhead
        budget = min(MAP_CALLS_MAX * capacity,
                     settings.unmeet_llm_summary_tokens - MAP_CALLS_MAX * (overhead + NOTE_TOKENS) - merge)
        if capacity <= 0 or budget <= 0:
            raise LlmError("the context budget is too small for the summary prompts")
        condensed, _cut = _condense(entries, budget)
        batches = _batches(condensed, capacity)
        planned = sum(overhead + _size(b) for b in batches) + merge + NOTE_TOKENS * len(batches)
        self._check(access, planned)

        async def one(number: int, batch: list[Entry]) -> tuple[dict, Usage]:
            return await self.llm.complete(
                access, data.workspace_id, *BATCH_PROMPT.split("/"),
                {**common, "batch": number, "batches": len(batches), "count": len(batch),
                 "answers": "\n\n".join(e.render() for e in batch)}, BatchOut)

        tasks = [asyncio.ensure_future(one(n, b)) for n, b in enumerate(batches, start=1)]
        try:
            answers = await asyncio.gather(*tasks)
        except BaseException:  # one failure (or the summary's deadline) stops the other batches
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        checker = Checker(data, entries)
        notes, sources, usage = [], {}, Usage()
        disagreements, open_questions = [], []
        for result, spent in answers:
            usage += spent
            for raw in result["themes"][:8]:
                quotes = _quotes(checker, raw["quotes"])[:2]
                people = checker.labels(raw["answers"]) | {label for label, _ in quotes}
                label = checker.text(raw["label"], 80)
                if not people or not label:
                    continue
                tid = f"T{len(sources) + 1}"
                sources[tid] = (people, quotes)
                lines = [f"{tid} ({len(people)} people): {label}"]
                lines += [f'  {q_label}: "{checker.text(q_text, QUOTE_MAX_CHARS)}"' for q_label, q_text in quotes]
                notes.append("\n".join(lines))
            disagreements += list(checker.items(result["disagreements"], 3))
            open_questions += list(checker.items(result["open_questions"], 3))
        if disagreements:
            notes.append("Disagreements:\n" + "\n".join(f"- {d}" for d in disagreements))
        if open_questions:
            notes.append("Open questions:\n" + "\n".join(f"- {q}" for q in open_questions))
        result, spent = await self.llm.complete(
            access, data.workspace_id, *MERGE_PROMPT.split("/"),
            {**common, "count": len(condensed), "batches": len(batches), "notes": "\n\n".join(notes)}, MergeOut)
        usage += spent
        scale = len(entries) / len(condensed)
        themes = []
        for raw in result["themes"]:
            merged = [sources[s.strip()] for s in raw["sources"] if s.strip() in sources]
            people = set().union(*(p for p, _ in merged)) if merged else set()
            quotes = _quotes(checker, raw["quotes"], [q for _, qs in merged for q in qs])
            people |= {label for label, _ in quotes}
            label = checker.text(raw["label"], 80)
            if people and label:
                themes.append(Theme(label, min(len(entries), round(len(people) * scale)),
                                    tuple(checker.make_quote(*q) for q in quotes)))
        sampled = (len(condensed), len(entries)) if len(condensed) < len(entries) else None
        return self._result(data, checker, result, themes, usage, access.model, f"{BATCH_PROMPT}+{MERGE_PROMPT}",
                            sampled=sampled)

    def _result(self, data: SummaryInput, checker: Checker, result: dict, themes: list[Theme], usage: Usage,
                model: str, prompt_id: str, *, sampled: tuple[int, int] | None) -> SummaryResult:
        themes.sort(key=lambda th: -th.count)
        answered_per_question = tuple(
            QuestionSummary(q, sum(1 for a in data.answers if i < len(a.texts) and a.texts[i].strip()))
            for i, q in enumerate(data.questions))
        extra = {"calls": usage.calls} | ({"sampled": list(sampled)} if sampled else {})
        return SummaryResult(
            kind="llm", headline=checker.text(result["headline"], 300), questions=answered_per_question,
            answered=len(data.answers), asked=data.asked, themes=tuple(themes[:THEMES_MAX]),
            disagreements=checker.items(result["disagreements"]),
            open_questions=checker.items(result["open_questions"]),
            next_step=checker.text(result.get("next_step") or "", 300) or None,
            model=model, prompt_id=prompt_id, tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, extra=extra)


def _prompt_tokens(prompt_id: str, variables: dict) -> int:
    return sum(approx_tokens(m["content"]) for m in load(prompt_id).render(variables))
