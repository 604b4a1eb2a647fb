""""Do we really need to meet?" — the rules that turn a planned meeting into a verdict. No I/O.

The rules, in order (each adds a reason; the strongest verdict wins):

1. Something sensitive or personal → **meet**: tone and trust don't travel well in writing. With more
   than 7 people → keep it to the people it concerns (**meet smaller**).
2. Sharing information or a status update → **go async**: people read it when it suits them.
3. Deciding, solving together, brainstorming or anything else → **meet**, unless:
   - more than 7 people → **meet smaller** (large groups listen, they don't discuss);
   - longer than 60 minutes → **meet shorter**;
   - the material can be read beforehand → **meet shorter** (send it, spend the meeting on questions).
4. Deciding without a known decision-maker → a reason to clarify who decides first (it doesn't change
   the verdict: the rule is a suggestion, the programme's "stuck log" is for this).

Cost: people × length in person-hours, per month when the meeting recurs. An LLM may add a sentence
of reasoning, but it never changes the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from core.domain.rounds import FieldError
from core.domain.text import N_

MAX_PEOPLE_FOR_DISCUSSION = 7
MAX_MINUTES_FOR_DISCUSSION = 60
AGENDA_MAX = 3000
MAX_PEOPLE = 1000
MAX_MINUTES = 8 * 60


class Purpose(StrEnum):
    DECIDE = "decide"
    SOLVE = "solve"
    SENSITIVE = "sensitive"
    INFORM = "inform"
    STATUS = "status"
    BRAINSTORM = "brainstorm"
    OTHER = "other"


class Frequency(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


# How many times a month a recurring meeting happens (working days for daily meetings).
PER_MONTH = {Frequency.ONCE: 1.0, Frequency.DAILY: 21.0, Frequency.WEEKLY: 52 / 12,
             Frequency.BIWEEKLY: 26 / 12, Frequency.MONTHLY: 1.0}


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class Verdict(IntEnum):
    """Ordered: a later rule can only move the verdict towards async."""

    MEET = 0
    MEET_SHORTER_SMALLER = 1
    GO_ASYNC = 2


R_SENSITIVE = N_("It's sensitive or personal: tone and trust don't travel well in writing, so talk.")
R_SENSITIVE_SMALL = N_("Keep it to the people it concerns — more than {max} people make a personal "
                       "conversation hard.")
R_INFO = N_("Sharing information works better in writing: people read it when it suits them, and "
            "nothing gets lost.")
R_STATUS = N_("A status update needs no meeting: everyone writes theirs and reads the others' in their "
              "own time.")
R_TOO_MANY = N_("More than {max} people rarely discuss well together: invite those who decide or do the "
                "work, and share the outcome with the rest.")
R_TOO_LONG = N_("Past an hour attention drops: aim for {max} minutes or less, with a sharp agenda.")
R_READ_FIRST = N_("The material can be read beforehand: send it now and spend the meeting on questions "
                  "only.")
R_WHO_DECIDES = N_("Nobody is sure who decides. Clarify that first, or the meeting ends without a "
                   "decision.")
R_MEET = N_("Working it out together is what meetings are good at.")

E_PURPOSE = N_("Choose what the meeting is for.")
E_AGENDA = N_("Write the agenda, even in a few words, so the check (and an async round) has something "
              "to work with.")
E_AGENDA_LONG = N_("Please keep the agenda under {max} characters (it has {length}).")
E_PEOPLE = N_("Give the number of people as a whole number between 1 and {max}, like 6.")
E_MINUTES = N_("Give the length in minutes, between 5 and {max}, like 30.")
E_FREQUENCY = N_("Choose how often the meeting happens (or “just once”).")
E_DECIDER = N_("Say whether it's clear who decides.")
E_READABLE = N_("Say whether the material could be read beforehand.")


@dataclass(frozen=True)
class CheckInput:
    """The form as typed (strings), before validation."""

    purpose: str = ""
    agenda: str = ""
    people: str = ""
    minutes: str = ""
    frequency: str = Frequency.ONCE
    decider_known: str = ""
    readable: str = ""


@dataclass(frozen=True)
class Meeting:
    """A validated planned meeting."""

    purpose: Purpose
    agenda: str
    people: int
    minutes: int
    frequency: Frequency
    decider_known: Answer
    readable: bool


@dataclass(frozen=True)
class Reason:
    message: str  # message id
    params: dict


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    person_hours: float  # one occurrence
    monthly_person_hours: float | None  # when it recurs


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def validate(data: CheckInput) -> Meeting | dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    if data.purpose not in set(Purpose):
        errors["purpose"] = FieldError(E_PURPOSE)
    agenda = data.agenda.strip()
    if not agenda:
        errors["agenda"] = FieldError(E_AGENDA)
    elif len(agenda) > AGENDA_MAX:
        errors["agenda"] = FieldError(E_AGENDA_LONG, {"max": AGENDA_MAX, "length": len(agenda)})
    people = _whole(data.people)
    if people is None or not 1 <= people <= MAX_PEOPLE:
        errors["people"] = FieldError(E_PEOPLE, {"max": MAX_PEOPLE})
    minutes = _whole(data.minutes)
    if minutes is None or not 5 <= minutes <= MAX_MINUTES:
        errors["minutes"] = FieldError(E_MINUTES, {"max": MAX_MINUTES})
    if data.frequency not in set(Frequency):
        errors["frequency"] = FieldError(E_FREQUENCY)
    if data.decider_known not in set(Answer):
        errors["decider_known"] = FieldError(E_DECIDER)
    if data.readable not in (Answer.YES, Answer.NO):
        errors["readable"] = FieldError(E_READABLE)
    if errors:
        return errors
    return Meeting(Purpose(data.purpose), agenda, people, minutes, Frequency(data.frequency),
                   Answer(data.decider_known), data.readable == Answer.YES)


def cost(meeting: Meeting) -> tuple[float, float | None]:
    """Person-hours of one occurrence, and per month when the meeting recurs."""
    once = meeting.people * meeting.minutes / 60
    if meeting.frequency == Frequency.ONCE:
        return once, None
    return once, once * PER_MONTH[meeting.frequency]


def judge(meeting: Meeting) -> Outcome:
    """Apply the rules in the module docstring."""
    verdict = Verdict.MEET
    reasons: list[Reason] = []

    def add(level: Verdict, message: str, **params) -> None:
        nonlocal verdict
        verdict = max(verdict, level)
        reasons.append(Reason(message, params))

    if meeting.purpose == Purpose.SENSITIVE:
        add(Verdict.MEET, R_SENSITIVE)
        if meeting.people > MAX_PEOPLE_FOR_DISCUSSION:
            add(Verdict.MEET_SHORTER_SMALLER, R_SENSITIVE_SMALL, max=MAX_PEOPLE_FOR_DISCUSSION)
    elif meeting.purpose == Purpose.INFORM:
        add(Verdict.GO_ASYNC, R_INFO)
    elif meeting.purpose == Purpose.STATUS:
        add(Verdict.GO_ASYNC, R_STATUS)
    else:
        if meeting.people > MAX_PEOPLE_FOR_DISCUSSION:
            add(Verdict.MEET_SHORTER_SMALLER, R_TOO_MANY, max=MAX_PEOPLE_FOR_DISCUSSION)
        if meeting.minutes > MAX_MINUTES_FOR_DISCUSSION:
            add(Verdict.MEET_SHORTER_SMALLER, R_TOO_LONG, max=45)
        if meeting.readable and meeting.purpose != Purpose.BRAINSTORM:
            add(Verdict.MEET_SHORTER_SMALLER, R_READ_FIRST)
        if not reasons:
            add(Verdict.MEET, R_MEET)
    if meeting.purpose == Purpose.DECIDE and meeting.decider_known != Answer.YES:
        add(Verdict.MEET, R_WHO_DECIDES)
    once, monthly = cost(meeting)
    return Outcome(verdict, tuple(reasons), round(once, 2), None if monthly is None else round(monthly, 2))
