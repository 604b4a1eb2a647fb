"""The summary without a model: counts, recurring terms and representative quotes per question.

Used when no LLM is configured, when a workspace switched it off, when the budget is spent or the
endpoint fails. Deterministic and dependency-free.
"""

from __future__ import annotations

import re
from collections import Counter

from core.domain.summary import AnswerText, QuestionSummary, Quote, SummaryInput, SummaryResult, Theme
from core.messages.i18n import Translator

QUOTE_MAX = 280
_WORD = re.compile(r"[^\W\d_][\w'’-]{2,}", re.UNICODE)

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off
on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves really think lot much many thing
things way get got make made want one two three also still even well like
aan al alle alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door dus een eens en er
ge geen geweest haar had heb hebben heeft hem het hier hij hoe hun iets ik in is ja je jij jou jouw kan kon
kunnen maar me meer men met mij mijn moet na naar niet niets nog nu of om omdat onder ons ook op over reeds te
tegen toch toen tot u uit uw van veel voor want waren was wat we wel werd wezen wie wil worden wordt zal ze zei
zelf zich zij zijn zo zonder zou echt heel vind denk dingen ding manier
""".split())


def terms(text: str) -> set[str]:
    return {w.lower().strip("'’-") for w in _WORD.findall(text)} - STOPWORDS


def trim(text: str, limit: int = QUOTE_MAX) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def _representative(answers: list[tuple[AnswerText, str]], frequencies: Counter, anonymous: bool,
                    how_many: int) -> tuple[Quote, ...]:
    """The answers whose terms are most shared with the others: they speak for the group."""
    def score(item: tuple[AnswerText, str]) -> tuple[float, int]:
        words = terms(item[1])
        shared = sum(frequencies[w] - 1 for w in words)
        return (shared / (1 + len(words)) ** 0.5, -item[0].answer_id)

    ranked = sorted(answers, key=score, reverse=True)[:how_many]
    return tuple(Quote(trim(text), a.answer_id, None if anonymous else a.author, a.link) for a, text in ranked)


def _themes(answers: list[tuple[AnswerText, str]], anonymous: bool, limit: int) -> tuple[Theme, ...]:
    frequencies: Counter = Counter()
    for _answer, text in answers:
        frequencies.update(terms(text))
    themes = []
    for term, count in frequencies.most_common():
        if count < 2 or len(themes) >= limit:
            break
        holders = [(a, text) for a, text in answers if term in terms(text)]
        quotes = tuple(Quote(trim(text), a.answer_id, None if anonymous else a.author, a.link)
                       for a, text in holders[:2])
        themes.append(Theme(term, count, quotes))
    return tuple(themes)


def summarise_offline(data: SummaryInput, t: Translator, *, reason: str | None = None) -> SummaryResult:
    per_question = []
    everything: list[tuple[AnswerText, str]] = []
    for index, question in enumerate(data.questions):
        given = [(a, a.texts[index].strip()) for a in data.answers
                 if index < len(a.texts) and a.texts[index].strip()]
        everything += given
        frequencies: Counter = Counter()
        for _answer, text in given:
            frequencies.update(terms(text))
        per_question.append(QuestionSummary(
            question=question, answered=len(given), themes=_themes(given, data.anonymous, 5),
            quotes=_representative(given, frequencies, data.anonymous, 3)))
    themes = _themes(everything, data.anonymous, 5)
    answered = len(data.answers)
    if answered == 0:
        headline = t.gettext("Nobody answered this round.")
    elif themes:
        headline = t.gettext("{answered} of {asked} answered; recurring: {terms}.", answered=answered,
                             asked=data.asked, terms=", ".join(th.label for th in themes[:3]))
    else:
        headline = t.gettext("{answered} of {asked} answered.", answered=answered, asked=data.asked)
    return SummaryResult(kind="offline", headline=headline, questions=tuple(per_question), answered=answered,
                         asked=data.asked, themes=(), fallback_reason=reason)


class OfflineSummariser:
    """The Summariser port without a model."""

    async def summarise(self, data: SummaryInput) -> SummaryResult:
        from core.messages.i18n import translator

        return summarise_offline(data, translator(data.locale))
