"""The meeting-check rules as a table of cases, and validation of the form."""

import pytest

from core.domain import meetings as rules
from core.domain.meetings import Answer, CheckInput, Frequency, Meeting, Purpose, Verdict

M, SMALLER, ASYNC = Verdict.MEET, Verdict.MEET_SHORTER_SMALLER, Verdict.GO_ASYNC


def meeting(purpose, people=5, minutes=30, *, frequency=Frequency.ONCE, decider=Answer.YES, readable=False):
    return Meeting(purpose, "agenda", people, minutes, frequency, decider, readable)


@pytest.mark.parametrize("case, verdict, reasons", [
    (meeting(Purpose.SENSITIVE), M, [rules.R_SENSITIVE]),
    (meeting(Purpose.SENSITIVE, people=12), SMALLER, [rules.R_SENSITIVE, rules.R_SENSITIVE_SMALL]),
    (meeting(Purpose.SENSITIVE, readable=True, minutes=90), M, [rules.R_SENSITIVE]),
    (meeting(Purpose.INFORM), ASYNC, [rules.R_INFO]),
    (meeting(Purpose.STATUS, people=3, frequency=Frequency.WEEKLY), ASYNC, [rules.R_STATUS]),
    (meeting(Purpose.DECIDE), M, [rules.R_MEET]),
    (meeting(Purpose.DECIDE, decider=Answer.NO), M, [rules.R_MEET, rules.R_WHO_DECIDES]),
    (meeting(Purpose.DECIDE, decider=Answer.UNSURE, people=9), SMALLER, [rules.R_TOO_MANY, rules.R_WHO_DECIDES]),
    (meeting(Purpose.SOLVE, people=8), SMALLER, [rules.R_TOO_MANY]),
    (meeting(Purpose.SOLVE, people=7), M, [rules.R_MEET]),
    (meeting(Purpose.SOLVE, decider=Answer.NO), M, [rules.R_MEET]),  # only deciding needs a decider
    (meeting(Purpose.BRAINSTORM, minutes=61), SMALLER, [rules.R_TOO_LONG]),
    (meeting(Purpose.BRAINSTORM, minutes=60, readable=True), M, [rules.R_MEET]),
    (meeting(Purpose.OTHER, readable=True), SMALLER, [rules.R_READ_FIRST]),
    (meeting(Purpose.DECIDE, people=10, minutes=90, readable=True), SMALLER,
     [rules.R_TOO_MANY, rules.R_TOO_LONG, rules.R_READ_FIRST]),
])
def test_verdict_rules(case, verdict, reasons):
    outcome = rules.judge(case)
    assert outcome.verdict == verdict
    assert [r.message for r in outcome.reasons] == reasons


@pytest.mark.parametrize("people, minutes, frequency, once, monthly", [
    (6, 30, Frequency.ONCE, 3.0, None),
    (6, 30, Frequency.WEEKLY, 3.0, 13.0),
    (4, 15, Frequency.DAILY, 1.0, 21.0),
    (10, 60, Frequency.BIWEEKLY, 10.0, 21.67),
    (3, 90, Frequency.MONTHLY, 4.5, 4.5),
])
def test_cost_in_person_hours(people, minutes, frequency, once, monthly):
    outcome = rules.judge(meeting(Purpose.STATUS, people, minutes, frequency=frequency))
    assert (outcome.person_hours, outcome.monthly_person_hours) == (once, monthly)


def test_missing_and_wrong_fields_each_get_a_sentence():
    errors = rules.validate(CheckInput(people="six", minutes="0", frequency="sometimes"))
    assert {k: v.message for k, v in errors.items()} == {
        "purpose": rules.E_PURPOSE, "agenda": rules.E_AGENDA, "people": rules.E_PEOPLE, "minutes": rules.E_MINUTES,
        "frequency": rules.E_FREQUENCY, "decider_known": rules.E_DECIDER, "readable": rules.E_READABLE}
    assert set(rules.validate(CheckInput("decide", "  ", "-3", "30", "once", "yes", "no"))) == {"agenda", "people"}


def test_a_complete_form_validates():
    assert rules.validate(CheckInput("status", " Weekly sync ", "6", "30", "weekly", "yes", "no")) == Meeting(
        Purpose.STATUS, "Weekly sync", 6, 30, Frequency.WEEKLY, Answer.YES, False)
