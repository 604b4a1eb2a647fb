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
_SENTENCES = re.compile(r"(?<=[.!?])\s+")

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


def stem(word: str) -> str:
    """A crude common root so "meeting"/"meetings" and "vergadering"/"vergaderingen" count as one."""
    if len(word) > 5 and word.endswith("en"):
        return word[:-2]
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _keys(text: str) -> dict[str, str]:
    """Theme keys in a text -> how the text spells them: single roots and two-word phrases."""
    words = [w.lower().strip("'’-") for w in _WORD.findall(text)]
    found: dict[str, str] = {}
    for word in words:
        if word not in STOPWORDS:
            found.setdefault(stem(word), word)
    for first, second in zip(words, words[1:]):
        if first not in STOPWORDS and second not in STOPWORDS:
            found.setdefault(f"{stem(first)} {stem(second)}", f"{first} {second}")
    return found


def _sentence_with(text: str, spelling: str) -> str:
    """The sentence of an answer where a theme appears: a shorter, sharper quote than the whole answer."""
    for sentence in _SENTENCES.split(" ".join(text.split())):
        if spelling in sentence.lower():
            return trim(sentence)
    return trim(text)


def _quote(answer: AnswerText, text: str, anonymous: bool) -> Quote:
    return Quote(text, answer.answer_id, None if anonymous else answer.author, answer.link)


def _representative(answers: list[tuple[AnswerText, str]], frequencies: Counter, anonymous: bool,
                    how_many: int) -> tuple[Quote, ...]:
    """The answers whose themes are most shared with the others: they speak for the group."""
    def score(item: tuple[AnswerText, str]) -> tuple[float, int]:
        keys = [k for k in _keys(item[1]) if " " not in k]
        shared = sum(frequencies[k] - 1 for k in keys)
        return (shared / (1 + len(keys)) ** 0.5, -item[0].answer_id)

    chosen: list[Quote] = []
    for answer, text in sorted(answers, key=score, reverse=True):
        if len(chosen) >= how_many:
            break
        if any(trim(text) == q.text for q in chosen):  # "Same." twice says nothing new
            continue
        chosen.append(_quote(answer, trim(text), anonymous))
    return tuple(chosen)


def _themes(answers: list[tuple[AnswerText, str]], anonymous: bool, limit: int) -> tuple[Theme, ...]:
    """Recurring words and phrases, counted once per person. A phrase raised by most of the people
    who use its words ("focus time") replaces those words as a theme."""
    people: dict[str, set[int]] = {}
    spellings: dict[str, Counter] = {}
    texts: dict[int, list[tuple[AnswerText, str]]] = {}
    for answer, text in answers:
        texts.setdefault(answer.answer_id, []).append((answer, text))
        for key, spelling in _keys(text).items():
            people.setdefault(key, set()).add(answer.answer_id)
            spellings.setdefault(key, Counter())[spelling] += 1
    counts = {key: len(ids) for key, ids in people.items() if len(ids) >= 2}
    covered: set[str] = set()
    for phrase in (k for k in counts if " " in k):
        if all(counts[phrase] >= 0.6 * counts.get(word, 0) for word in phrase.split()):
            covered.update(phrase.split())
        else:
            covered.add(phrase)
    ranked = sorted((k for k in counts if k not in covered), key=lambda k: (-counts[k], " " not in k, k))
    themes = []
    for key in ranked[:limit]:
        spelling = spellings[key].most_common(1)[0][0]
        quotes = []
        for answer_id in sorted(people[key])[:2]:
            answer, text = next((a, t) for a, t in texts[answer_id] if key in _keys(t))
            quotes.append(_quote(answer, _sentence_with(text, spelling), anonymous))
        themes.append(Theme(spelling, counts[key], tuple(quotes)))
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
            frequencies.update(k for k in _keys(text) if " " not in k)
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
    # The round-wide themes only feed the headline: per question they are shown with their quotes.
    return SummaryResult(kind="offline", headline=headline, questions=tuple(per_question), answered=answered,
                         asked=data.asked, themes=(), fallback_reason=reason)


class OfflineSummariser:
    """The Summariser port without a model. `reason` says why it stands in for one."""

    async def summarise(self, data: SummaryInput, *, reason: str | None = None) -> SummaryResult:
        from core.messages.i18n import translator

        return summarise_offline(data, translator(data.locale), reason=reason)
