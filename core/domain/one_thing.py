"""The One Thing: the one idea a person keeps from a session, a round or a read. No I/O.

A person has one current One Thing; recording another replaces it (the old one stays in their
history). A week after it was recorded, at that wall-clock time in the person's own time zone and
moved into their working hours, they are asked "Still doing it?" (yes / partly / dropped, and a note).
A One Thing is private unless the person shares it; shared ones are listed in the team's digest.

What people type after the command:
    (nothing)                    show the current One Thing and the history
    <text>                       record it (private)
    <text> #share / #deel        record it and share it in the team's weekly digest
    share | deel | delen         share the current one
    unshare | private | privé | niet delen    stop sharing the current one
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from core.domain.rounds import E_REQUIRED, FieldError, next_working_moment, zone
from core.domain.text import N_

TEXT_MAX = 500  # characters; one idea, short enough to read back in a digest list
NOTE_MAX = 500
CHECK_AFTER = timedelta(days=7)


class Answer(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    DROPPED = "dropped"


E_TEXT_LONG = N_("Please keep your One Thing under {max} characters (it has {length}). One idea, in a sentence "
                 "or two.")
E_NOTE_LONG = N_("Please keep the note under {max} characters (it has {length}).")
E_ANSWER = N_("Choose yes, partly or dropped.")

SHARE_WORDS = ("share", "deel", "delen")
UNSHARE_WORDS = ("unshare", "private", "privé", "prive", "niet delen", "stop delen")
_SHARE_TAG = re.compile(r"(?<!\S)#(?:share|deel|delen)(?!\S)", re.IGNORECASE)


@dataclass(frozen=True)
class Show:
    pass


@dataclass(frozen=True)
class Record:
    text: str
    share: bool  # `#share` was given; without it the One Thing is private (or, re-recorded, stays as it was)


@dataclass(frozen=True)
class SetShare:
    shared: bool


Command = Show | Record | SetShare


def clean(text: str | None) -> str:
    return (text or "").strip()


def parse_command(text: str | None) -> Command:
    """What follows `/one-thing` (Teams: `one thing` / `één ding`)."""
    text = clean(text)
    word = " ".join(text.lower().split())
    if not word:
        return Show()
    if word in SHARE_WORDS or word in ("#" + w for w in SHARE_WORDS):
        return SetShare(True)
    if word in UNSHARE_WORDS:
        return SetShare(False)
    shared = bool(_SHARE_TAG.search(text))
    if shared:
        text = clean(" ".join(part for part in _SHARE_TAG.split(text)))
        text = re.sub(r"[ \t]{2,}", " ", text)
    return Record(text, shared)


def check_text(text: str) -> FieldError | None:
    """A One Thing must say something and stay one idea (at most TEXT_MAX characters)."""
    if not clean(text):
        return FieldError(E_REQUIRED)
    if len(clean(text)) > TEXT_MAX:
        return FieldError(E_TEXT_LONG, {"max": TEXT_MAX, "length": len(clean(text))})
    return None


def check_answer(answer: str | None, note: str) -> dict[str, FieldError]:
    """Errors of the check form, by input id (`answer`, `note`)."""
    errors: dict[str, FieldError] = {}
    if answer not in set(Answer):
        errors["answer"] = FieldError(E_ANSWER)
    if len(clean(note)) > NOTE_MAX:
        errors["note"] = FieldError(E_NOTE_LONG, {"max": NOTE_MAX, "length": len(clean(note))})
    return errors


# --- the check a week later ---------------------------------------------------------------------------
def check_due(recorded_at: datetime, tz: str | None) -> datetime:
    """When to ask "Still doing it?": a week after recording at the same wall-clock time in the person's
    zone (so 167 or 169 hours across a DST change), moved to their next working moment (09:00–17:00,
    Monday to Friday) when that falls outside working hours. UTC."""
    zi = zone(tz)
    local = recorded_at.astimezone(zi)
    week_later = local.replace(tzinfo=None) + CHECK_AFTER  # wall-clock arithmetic, then back into the zone
    return next_working_moment(week_later.replace(tzinfo=zi).astimezone(timezone.utc), zi)


def may_ask_now(now: datetime, tz: str | None) -> datetime:
    """`now` when it is inside the person's working hours, else their next working moment (the person
    may have moved zones since the check was queued)."""
    return next_working_moment(now, zone(tz))
