"""What a summariser gets and gives back. The offline and the LLM summariser share these types."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AnswerText:
    answer_id: int
    author: str | None  # None in anonymous rounds: a summariser never sees names there
    texts: tuple[str, ...]  # one per question
    link: str | None = None  # permalink of the thread reply, when there is one


@dataclass(frozen=True)
class SummaryInput:
    round_id: int
    workspace_id: int
    title: str
    locale: str
    anonymous: bool
    questions: tuple[str, ...]
    answers: tuple[AnswerText, ...]
    asked: int  # how many people were asked


@dataclass(frozen=True)
class Quote:
    text: str
    answer_id: int
    author: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Theme:
    label: str
    count: int  # how many people raised it
    quotes: tuple[Quote, ...] = ()


@dataclass(frozen=True)
class QuestionSummary:
    question: str
    answered: int
    themes: tuple[Theme, ...] = ()
    quotes: tuple[Quote, ...] = ()


@dataclass(frozen=True)
class SummaryResult:
    kind: str  # "offline" | "llm"
    headline: str  # one line, used by the weekly digest
    questions: tuple[QuestionSummary, ...]
    answered: int
    asked: int
    themes: tuple[Theme, ...] = ()
    disagreements: tuple[str, ...] = ()
    open_questions: tuple[str, ...] = ()
    next_step: str | None = None
    model: str | None = None
    prompt_id: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    fallback_reason: str | None = None  # why the offline summary was used although an LLM exists
    extra: dict = field(default_factory=dict)
