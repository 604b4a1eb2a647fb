"""The offline summary: themes counted once per person, word forms merged, phrases preferred,
quotes are the sentence that carries the theme, no names in anonymous rounds."""

from core.domain.summary import AnswerText, SummaryInput
from core.llm.offline import OfflineSummariser, summarise_offline
from core.messages.i18n import translator

ANSWERS = (
    AnswerText(1, "Ann", ("Too many meetings eat my focus time. I also like coffee.", "Deep work and meetings.", "x")),
    AnswerText(2, "Bob", ("The planner, because I love a meeting.", "Deep work, shallow work.", "More focus time.")),
    AnswerText(3, "Cas", ("Meetings are where I hide. Meetings, meetings, meetings.", "Deep work only.", "Focus time!")),
)


def data(anonymous=False, locale="en"):
    return SummaryInput(1, 1, "T", locale, anonymous, ("Q1", "Q2", "Q3"),
                        tuple(AnswerText(a.answer_id, None if anonymous else a.author, a.texts) for a in ANSWERS), 5)


def test_themes_count_people_merge_word_forms_and_prefer_phrases():
    result = summarise_offline(data(), translator("en"))
    q1, q2, q3 = result.questions
    meetings = q1.themes[0]
    assert (meetings.label, meetings.count) == ("meetings", 3)  # "meeting" and "meetings", Cas counted once
    assert meetings.quotes[0].text == "Too many meetings eat my focus time."  # the sentence, not the answer
    assert q2.themes[0].label == "deep work" and q2.themes[0].count == 3
    assert "work" not in [t.label for t in q2.themes]  # covered by the phrase
    assert q3.themes[0].label == "focus time" and q3.themes[0].count == 2
    assert "recurring" in result.headline and result.kind == "offline" and result.fallback_reason is None


async def test_anonymous_has_no_authors_and_the_reason_is_kept():
    result = await OfflineSummariser().summarise(data(anonymous=True, locale="nl"), reason="budget")
    assert result.fallback_reason == "budget"
    quotes = [q for qs in result.questions for q in qs.quotes] + [
        q for qs in result.questions for t in qs.themes for q in t.quotes]
    assert quotes and all(q.author is None for q in quotes)
    assert "beantwoord" in result.headline or "antwoord" in result.headline
