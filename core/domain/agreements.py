"""Team agreements: principles first, rules second, actions third — the rules that need no I/O.

An agreement belongs to one channel (the team). Its principles, rules and actions as stored are the
lead's working draft; publishing snapshots them as a numbered version, and only a published version
counts: the typed rules the app obeys (`TeamRules`) are read from the latest published version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum

from core.domain.rounds import FieldError, WORK_END, WORK_START, zone
from core.domain.text import N_

PRINCIPLE_MAX = 500
RULE_MAX = 500
ACTION_MAX = 300
ITEMS_MAX = 20  # principles, free-text rules: lines each
ACTION_ROWS = 5  # action rows in the form
STUCK_LOG_DEFAULT_DAYS = 10


class RuleKind(StrEnum):
    TEXT = "text"  # free text: shown, not obeyed
    WORK_HOURS = "work_hours"  # params: start, end ("HH:MM"): no nudges outside them
    RESPONSE_TIME = "response_time"  # params: hours: round deadlines at least this far away
    FOCUS_GOAL = "focus_goal"  # params: minutes: the team's weekly focus goal
    NO_MEETING_DAYS = "no_meeting_days"  # params: days: [0..4] (Monday = 0)
    MEETING_AGENDA = "meeting_agenda"  # a meeting needs an agenda


class ActionState(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


@dataclass(frozen=True)
class Rule:
    kind: str
    text: str = ""
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TeamRules:
    """What a published agreement makes the app do for its channel. A new rule kind is added here
    (and in `team_rules`) and every scheduler that reads `TeamRules` follows it."""

    work_start: time | None = None
    work_end: time | None = None
    response_hours: int | None = None
    focus_goal_minutes: int | None = None
    no_meeting_days: frozenset[int] = frozenset()
    agenda_required: bool = False
    version: int = 0  # the published version these come from; 0: no agreement

    def next_quiet_end(self, now: datetime, tz: str | None) -> datetime:
        """The first moment from `now` inside the team's working hours (the person's time zone);
        `now` itself when there are no such hours or it is inside them. Weekends are the person's own
        working hours' business (they already keep nudges to Monday–Friday)."""
        if self.work_start is None or self.work_end is None:
            return now
        zi = zone(tz)
        local = now.astimezone(zi)
        if self.work_start <= local.time() < self.work_end:
            return now
        day = local.date() if local.time() < self.work_start else local.date() + timedelta(days=1)
        return datetime.combine(day, self.work_start, tzinfo=zi).astimezone(timezone.utc)


def team_rules(rules: list[Rule] | tuple[Rule, ...], version: int = 0) -> TeamRules:
    """The one reading of typed rules: the last rule of a kind wins; free text is ignored."""
    values: dict = {"version": version}
    for rule in rules:
        p = rule.params or {}
        if rule.kind == RuleKind.WORK_HOURS:
            values["work_start"], values["work_end"] = _time(p.get("start")), _time(p.get("end"))
        elif rule.kind == RuleKind.RESPONSE_TIME and p.get("hours"):
            values["response_hours"] = int(p["hours"])
        elif rule.kind == RuleKind.FOCUS_GOAL and p.get("minutes"):
            values["focus_goal_minutes"] = int(p["minutes"])
        elif rule.kind == RuleKind.NO_MEETING_DAYS:
            values["no_meeting_days"] = frozenset(int(d) for d in p.get("days", ()))
        elif rule.kind == RuleKind.MEETING_AGENDA:
            values["agenda_required"] = True
    return TeamRules(**values)


def _time(value: str | None) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- the form's choices ---------------------------------------------------------------------------
NONE = "none"
HOUR_CHOICES = tuple(f"{h:02d}:00" for h in range(6, 22))
RESPONSE_CHOICES = (2, 4, 8, 24, 48)  # hours
FOCUS_CHOICES = (2, 4, 6, 8, 10, 15)  # hours a week
WEEKDAYS = (0, 1, 2, 3, 4, 5, 6)  # weekends too: some teams work them


@dataclass(frozen=True)
class ActionInput:
    text: str = ""
    owner: str = ""  # member id as text, or "" / NONE
    due: date | None = None
    id: int | None = None  # the stored action this row edits
    state: str = ActionState.OPEN


@dataclass(frozen=True)
class AgreementInput:
    """The edit form, before validation. Principles and free-text rules: one per line."""

    principles: str = ""
    rules: str = ""
    work_start: str = NONE
    work_end: str = NONE
    response_hours: str = NONE
    focus_hours: str = NONE
    no_meeting_day: str = NONE
    agenda: str = NONE  # "yes" | NONE
    actions: tuple[ActionInput, ...] = ()


E_REQUIRED = N_("Please fill this in.")
E_TOO_LONG = N_("Please keep this under {max} characters (it has {length}).")
E_PRINCIPLE_FIRST = N_("Agreements start with principles: write at least one principle before adding rules.")
E_NEEDS_PRINCIPLE = N_("Write at least one principle before publishing.")
E_TOO_MANY = N_("Please keep this to {max} lines.")
E_HOURS_ORDER = N_("The working day must end after it starts.")
E_HOURS_BOTH = N_("Pick both a start and an end time, or neither.")
E_ACTION_OWNER = N_("Every action needs an owner.")
E_ACTION_DUE = N_("Every action needs a due date.")
E_ACTION_PAST = N_("Pick a due date from today on.")
E_ACTION_TEXT = N_("Say what the action is, or clear its owner and date.")
E_CHOICE = N_("Choose one of the options.")


def lines(text: str) -> list[str]:
    return [line.strip().lstrip("-•*").strip() for line in (text or "").splitlines() if line.strip().lstrip("-•*").strip()]


def typed_rules(data: AgreementInput) -> list[Rule]:
    """The typed rules the form's choices stand for (already validated)."""
    out: list[Rule] = []
    if data.work_start != NONE and data.work_end != NONE:
        out.append(Rule(RuleKind.WORK_HOURS, params={"start": data.work_start, "end": data.work_end}))
    if data.response_hours != NONE:
        out.append(Rule(RuleKind.RESPONSE_TIME, params={"hours": int(data.response_hours)}))
    if data.focus_hours != NONE:
        out.append(Rule(RuleKind.FOCUS_GOAL, params={"minutes": int(data.focus_hours) * 60}))
    if data.no_meeting_day != NONE:
        out.append(Rule(RuleKind.NO_MEETING_DAYS, params={"days": [int(data.no_meeting_day)]}))
    if data.agenda == "yes":
        out.append(Rule(RuleKind.MEETING_AGENDA))
    return out


def validate(data: AgreementInput, *, today: date, owners: set[str], publishing: bool) -> dict[str, FieldError]:
    """Field id -> error. Ids: principles, rules, work_start, work_end, response_hours, focus_hours,
    no_meeting_day, agenda, a{n}_text, a{n}_owner, a{n}_due (n from 1)."""
    errors: dict[str, FieldError] = {}
    principles, free_rules = lines(data.principles), lines(data.rules)
    for field_id, items, maximum in (("principles", principles, PRINCIPLE_MAX), ("rules", free_rules, RULE_MAX)):
        if len(items) > ITEMS_MAX:
            errors[field_id] = FieldError(E_TOO_MANY, {"max": ITEMS_MAX})
        elif (longest := max(items, key=len, default="")) and len(longest) > maximum:
            errors[field_id] = FieldError(E_TOO_LONG, {"max": maximum, "length": len(longest)})
    choices = {"work_start": (NONE, *HOUR_CHOICES), "work_end": (NONE, *HOUR_CHOICES),
               "response_hours": (NONE, *map(str, RESPONSE_CHOICES)), "focus_hours": (NONE, *map(str, FOCUS_CHOICES)),
               "no_meeting_day": (NONE, *map(str, WEEKDAYS)), "agenda": (NONE, "yes")}
    for field_id, allowed in choices.items():
        if getattr(data, field_id) not in allowed:
            errors[field_id] = FieldError(E_CHOICE)
    if "work_start" not in errors and "work_end" not in errors:
        if (data.work_start == NONE) != (data.work_end == NONE):
            errors["work_end" if data.work_end == NONE else "work_start"] = FieldError(E_HOURS_BOTH)
        elif data.work_start != NONE and data.work_end <= data.work_start:
            errors["work_end"] = FieldError(E_HOURS_ORDER)
    has_rules = bool(free_rules) or any(getattr(data, f) != NONE for f in choices)
    if not principles and has_rules and "rules" not in errors:
        errors["principles"] = FieldError(E_PRINCIPLE_FIRST)
    elif not principles and publishing:
        errors["principles"] = FieldError(E_NEEDS_PRINCIPLE)
    for n, action in enumerate(data.actions, start=1):
        text, owner = action.text.strip(), (action.owner or "").strip()
        has_owner = owner not in ("", NONE)
        if not text:
            if has_owner or action.due is not None:
                errors[f"a{n}_text"] = FieldError(E_ACTION_TEXT)
            continue
        if len(text) > ACTION_MAX:
            errors[f"a{n}_text"] = FieldError(E_TOO_LONG, {"max": ACTION_MAX, "length": len(text)})
        if not has_owner or owner not in owners:
            errors[f"a{n}_owner"] = FieldError(E_ACTION_OWNER)
        if action.due is None:
            errors[f"a{n}_due"] = FieldError(E_ACTION_DUE)
        elif action.due < today and (action.id is None or action.state == ActionState.OPEN):
            errors[f"a{n}_due"] = FieldError(E_ACTION_PAST)
    return errors


# --- actions --------------------------------------------------------------------------------------
def _previous_workday(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def action_reminders(due: date, tz: str | None, now: datetime) -> list[tuple[str, datetime]]:
    """The owner's two DMs: "before" at the start of the working day before the due date, "on" at the
    start of the due date (their time zone). One that has already passed goes at once, unless its day
    is over (a due date of today has no "before")."""
    zi = zone(tz)
    today = now.astimezone(zi).date()
    out = []
    for which, day in (("before", _previous_workday(due)), ("on", due)):
        if day < today:
            continue
        at = datetime.combine(day, WORK_START, tzinfo=zi).astimezone(timezone.utc)
        if day == today and now.astimezone(zi).time() >= WORK_END:
            continue
        out.append((which, max(at, now)))
    return out


_STUCK = re.compile(r"\b(stuck[ -]?log|vastloop[- ]?log|vastlooplogboek|stuck)\b", re.IGNORECASE)
_DAYS = re.compile(r"(\d{1,2})\s*(working days|work days|days|werkdagen|dagen)", re.IGNORECASE)


def stuck_log_days(text: str) -> int | None:
    """An action "keep a stuck log for N working days" (English or Dutch): N, else None."""
    if not _STUCK.search(text or ""):
        return None
    found = _DAYS.search(text)
    return int(found.group(1)) if found and 0 < int(found.group(1)) <= 30 else STUCK_LOG_DEFAULT_DAYS


# --- the programme's questionnaire ----------------------------------------------------------------
QUESTIONNAIRE = {
    "en": {
        "title": "Team agreements: before our meeting",
        "text": ("Before we meet to make our team agreements, please answer three questions in your own time. "
                 "The answers become the start of our principles, rules and actions."),
        "questions": (
            "Availability: when are you reachable, how fast do you expect an answer, and when do you need focus time?",
            "Communication tools: which channel do we use for what, and how do we tell urgent from not urgent?",
            "Meetings: when is a meeting worth it, and would a day without meetings help us?",
        ),
    },
    "nl": {
        "title": "Teamafspraken: voor onze vergadering",
        "text": ("Voor we samenkomen om onze teamafspraken te maken: beantwoord in je eigen tijd drie vragen. "
                 "De antwoorden worden het begin van onze principes, regels en acties."),
        "questions": (
            "Bereikbaarheid: wanneer ben je bereikbaar, hoe snel verwacht je een antwoord, en wanneer heb je focustijd nodig?",
            "Communicatiemiddelen: welk kanaal gebruiken we waarvoor, en hoe onderscheiden we dringend van niet dringend?",
            "Vergaderingen: wanneer is een vergadering de moeite waard, en zou een dag zonder vergaderingen ons helpen?",
        ),
    },
}
TOPICS = ("availability", "tools", "meetings")


# --- the meeting check ----------------------------------------------------------------------------
R_NO_MEETING_DAY = N_("That's a no-meeting day for this team: share it in writing, or pick another day.")
R_AGENDA = N_("This team agreed that a meeting needs an agenda: send it with the invitation.")


def team_verdict(outcome, team: TeamRules, weekday: int):
    """The meeting check's outcome as the team's agreement bends it: on a no-meeting day the answer
    is "go async", and a team that wants agendas is reminded of it."""
    from dataclasses import replace

    from core.domain.meetings import Reason, Verdict

    if weekday in team.no_meeting_days:
        outcome = replace(outcome, verdict=Verdict.GO_ASYNC, reasons=(Reason(R_NO_MEETING_DAY, {}), *outcome.reasons))
    if team.agenda_required:
        outcome = replace(outcome, reasons=(*outcome.reasons, Reason(R_AGENDA, {})))
    return outcome


def form_input(values: dict) -> AgreementInput:
    """The edit form's values (Slack modal state or a Teams card's data) as an `AgreementInput`;
    dates may come as dates or ISO text, anything else unreadable counts as empty."""
    def text(key: str, default: str = "") -> str:
        value = values.get(key)
        return value if isinstance(value, str) and value else default

    def day(key: str) -> date | None:
        value = values.get(key)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None
        except ValueError:
            return None

    return AgreementInput(
        principles=text("principles"), rules=text("rules"), work_start=text("work_start", NONE),
        work_end=text("work_end", NONE), response_hours=text("response_hours", NONE),
        focus_hours=text("focus_hours", NONE), no_meeting_day=text("no_meeting_day", NONE),
        agenda=text("agenda", NONE),
        actions=tuple(ActionInput(text(f"a{n}_text"), text(f"a{n}_owner", NONE), day(f"a{n}_due"))
                      for n in range(1, ACTION_ROWS + 1)))
