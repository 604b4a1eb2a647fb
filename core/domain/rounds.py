"""Reflection rounds: the rules that need no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from core.domain.refs import PersonRef
from core.domain.text import N_

TITLE_MAX = 150  # a Slack header block
TEXT_MAX = 3000  # a section / plain_text_input
QUESTION_MAX = 300
ANSWER_MAX = 3000
URL_MAX = 2000
MAX_DEADLINE_DAYS = 90
DEADLINE_LOCAL_TIME = time(17, 0)
CONFIRM_ABOVE_MEMBERS = 200

DEFAULT_QUESTIONS = {
    "en": (
        "Which of the characters do you recognise yourself in most, and why?",
        "Which three kinds of work appear in the story?",
        "What will you take from this into your own work?",
    ),
    "nl": (
        "In welk personage herken jij jezelf het meest en waarom?",
        "Welke drie soorten opdrachten komen in het verhaal voor?",
        "Welke inzichten neem je hieruit mee voor je eigen werk?",
    ),
}


class ShareMode(StrEnum):
    THREAD = "thread"  # answers appear in the thread, attributed
    AUTHOR_ONLY = "author_only"  # only the author sees answers until the round closes
    ANONYMOUS = "anonymous"  # answers appear in the thread without names


class RoundStatus(StrEnum):
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ShareInput:
    """What the lead typed in the share form, before validation."""

    title: str
    link: str = ""
    text: str = ""
    questions: tuple[str, str, str] = ("", "", "")
    deadline: date | None = None
    share_mode: str = ShareMode.THREAD
    channel_id: str = ""


# Validation errors are message ids (English source strings) so each platform shows them in the
# person's language; the i18n layer translates them.
E_REQUIRED = N_("Please fill this in.")
E_TOO_LONG = N_("Please keep this under {max} characters (it has {length}).")
E_LINK_OR_TEXT = N_("Add a link or a text, so people know what to reflect on.")
E_URL_SCHEME = N_("Use a full web address starting with https:// (or http://).")
E_URL_INVALID = N_("This doesn't look like a web address. Paste the full link, starting with https://.")
E_DEADLINE_PAST = N_("Pick a deadline after today.")
E_DEADLINE_FAR = N_("Pick a deadline within {days} days.")
E_SHARE_MODE = N_("Choose how answers are shared.")
E_CHANNEL = N_("Choose a channel to post in.")


@dataclass(frozen=True)
class FieldError:
    message: str  # a message id, see above
    params: dict = field(default_factory=dict)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def validate_url(url: str) -> FieldError | None:
    """Only http(s) links with a host; `javascript:`, `data:` and schemeless text are refused."""
    if len(url) > URL_MAX:
        return FieldError(E_TOO_LONG, {"max": URL_MAX, "length": len(url)})
    if re.search(r"\s", url):
        return FieldError(E_URL_INVALID)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. a malformed IPv6 host
        return FieldError(E_URL_INVALID)
    if parts.scheme.lower() not in ("http", "https"):
        return FieldError(E_URL_SCHEME)
    if not host or ("." not in host and host != "localhost"):
        return FieldError(E_URL_INVALID)
    return None


def validate_share(data: ShareInput, *, today: date) -> dict[str, FieldError]:
    """Field id -> error. Field ids: title, link, text, q1, q2, q3, deadline, share_mode, channel."""
    errors: dict[str, FieldError] = {}

    def length(field_id: str, value: str, maximum: int, required: bool) -> None:
        if required and not value:
            errors[field_id] = FieldError(E_REQUIRED)
        elif len(value) > maximum:
            errors[field_id] = FieldError(E_TOO_LONG, {"max": maximum, "length": len(value)})

    title, link, text = _clean(data.title), _clean(data.link), _clean(data.text)
    length("title", title, TITLE_MAX, True)
    length("text", text, TEXT_MAX, False)
    if link:
        if (error := validate_url(link)) is not None:
            errors["link"] = error
    elif not text and "text" not in errors:
        errors["link"] = FieldError(E_LINK_OR_TEXT)
    for index, question in enumerate(data.questions, start=1):
        length(f"q{index}", _clean(question), QUESTION_MAX, True)
    if data.deadline is None:
        errors["deadline"] = FieldError(E_REQUIRED)
    elif data.deadline <= today:
        errors["deadline"] = FieldError(E_DEADLINE_PAST)
    elif data.deadline > today + timedelta(days=MAX_DEADLINE_DAYS):
        errors["deadline"] = FieldError(E_DEADLINE_FAR, {"days": MAX_DEADLINE_DAYS})
    if data.share_mode not in set(ShareMode):
        errors["share_mode"] = FieldError(E_SHARE_MODE)
    if not _clean(data.channel_id):
        errors["channel"] = FieldError(E_CHANNEL)
    return errors


def validate_answers(texts: tuple[str, ...]) -> dict[str, FieldError]:
    """Field ids a1..a3. Every question needs an answer; each fits a Slack section."""
    errors: dict[str, FieldError] = {}
    for index, text in enumerate(texts, start=1):
        text = _clean(text)
        if not text:
            errors[f"a{index}"] = FieldError(E_REQUIRED)
        elif len(text) > ANSWER_MAX:
            errors[f"a{index}"] = FieldError(E_TOO_LONG, {"max": ANSWER_MAX, "length": len(text)})
    return errors


def answers_in_key(person: PersonRef, round_id: int | None = None) -> str:
    """The job key of a person's submitted answers to a round (`round.store_answer`); without a round,
    the prefix of all their keys (what erasing the person looks for)."""
    prefix = f"answers-in:{person.workspace.platform}:{person.workspace.id}:{person.id}:"
    return prefix if round_id is None else f"{prefix}{round_id}"


def deadline_instant(day: date, tz: str | None) -> datetime:
    """A deadline date means the end of that working day (17:00) in the author's time zone."""
    local = datetime.combine(day, DEADLINE_LOCAL_TIME, tzinfo=zone(tz))
    return local.astimezone(timezone.utc)


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (KeyError, ValueError):  # unknown or malformed zone name from a platform
        return ZoneInfo("UTC")


# Working hours for reminders: 09:00–17:00, Monday to Friday, in the person's own time zone.
WORK_START = time(9, 0)
WORK_END = time(17, 0)
LATEST_REMINDER = time(16, 0)  # an hour before the end of the day, so there is time to answer
# A round's reminder never follows its questions sooner than this: shared on a Friday afternoon for
# Monday, the reminder's Friday 16:00 has passed, and the next working moment would be at once.
REMINDER_GAP = timedelta(hours=2)


def _is_workday(day: date) -> bool:
    return day.weekday() < 5


def reminder_time(deadline: datetime, tz: str | None, now: datetime) -> datetime | None:
    """When to remind someone who has not answered: about 24 hours before the deadline, moved back
    into their working hours; if that moment is before `now` (or whatever later moment the caller
    gives), the next working moment from then on that is still at least an hour before the deadline;
    None if there is no such moment. DST-correct (zoneinfo)."""
    zi = zone(tz)
    target = (deadline - timedelta(hours=24)).astimezone(zi)
    if not (_is_workday(target.date()) and WORK_START <= target.time() < WORK_END):
        day = target.date() if target.time() >= WORK_END else target.date() - timedelta(days=1)
        while not _is_workday(day):
            day -= timedelta(days=1)
        target = datetime.combine(day, LATEST_REMINDER, tzinfo=zi)
    if target.astimezone(timezone.utc) >= now:
        return target.astimezone(timezone.utc)
    candidate = next_working_moment(now, zi)
    if candidate <= deadline - timedelta(hours=1):
        return candidate
    return None


def next_working_moment(now: datetime, zi: ZoneInfo) -> datetime:
    local = now.astimezone(zi)
    day = local.date()
    if _is_workday(day) and WORK_START <= local.time() < WORK_END:
        return now
    if _is_workday(day) and local.time() < WORK_START:
        return datetime.combine(day, WORK_START, tzinfo=zi).astimezone(timezone.utc)
    day += timedelta(days=1)
    while not _is_workday(day):
        day += timedelta(days=1)
    return datetime.combine(day, WORK_START, tzinfo=zi).astimezone(timezone.utc)


def is_closed(deadline: datetime, status: str, now: datetime) -> bool:
    return status != RoundStatus.OPEN or now >= deadline
