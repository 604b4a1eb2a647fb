"""What a summariser gets and gives back. The offline and the LLM summariser share these types."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


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


def without_person(summary: SummaryResult, answer: AnswerText | None, *, was_asked: bool) -> SummaryResult:
    """The summary once a person's data is erased: the quotes from their answer gone, and the counts
    one lower where they counted (answered overall and per question they answered; asked). Wording
    written from everyone's answers together (headline, theme labels) stays as it was written."""
    if answer is None and not was_asked:
        return summary
    gone = None if answer is None else answer.answer_id

    def quotes(items: tuple[Quote, ...]) -> tuple[Quote, ...]:
        return tuple(q for q in items if q.answer_id != gone)

    def themes(items: tuple[Theme, ...]) -> tuple[Theme, ...]:
        return tuple(replace(th, quotes=quotes(th.quotes)) for th in items)

    def gave(index: int) -> bool:
        return answer is not None and index < len(answer.texts) and bool(answer.texts[index].strip())

    questions = tuple(replace(q, answered=max(0, q.answered - gave(i)), themes=themes(q.themes),
                              quotes=quotes(q.quotes)) for i, q in enumerate(summary.questions))
    return replace(summary, questions=questions, themes=themes(summary.themes),
                   answered=max(0, summary.answered - (answer is not None)), asked=max(0, summary.asked - was_asked))
