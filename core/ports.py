"""The ports: what core needs from the outside world, as Protocols.

Platforms (Slack, Teams) implement `Messenger`; the LLM module implements `Summariser`;
the clock is injected everywhere so tests step time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from core.domain.refs import ChannelRef, PersonRef, Posted, WorkspaceRef
from core.domain.summary import SummaryInput, SummaryResult
from core.messages.model import Message


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class FixedClock:
    """A clock that only moves when told to (tests, `unmeet jobs run-due --now`)."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.current = self.current + timedelta(**delta)


@dataclass(frozen=True)
class Person:
    """A member of a channel as the platform describes them."""

    ref: PersonRef
    name: str
    is_bot: bool = False
    deleted: bool = False
    locale: str | None = None
    tz: str | None = None


class MessengerError(Exception):
    """Base for failures a platform reports; the job worker decides on retries."""


class Unreachable(MessengerError):
    """This person can't be messaged (blocked the bot, left, deactivated): stop trying."""


class RetryLater(MessengerError):
    """A transient failure (rate limit, 5xx). Retry after `seconds` if known."""

    def __init__(self, message: str = "", seconds: float | None = None):
        super().__init__(message or "retry later")
        self.seconds = seconds


class Messenger(Protocol):
    """What a chat platform must do for core. One instance per platform."""

    platform: str

    async def person(self, ref: PersonRef) -> Person:
        """Directory facts about one person: name, bot or not, deactivated, language, time zone."""
        ...

    async def member_count(self, channel: ChannelRef) -> int: ...

    async def channel_members(self, channel: ChannelRef) -> list[Person]:
        """Everyone in the channel (all pages). Bot/deleted flags only where the listing has them."""
        ...

    async def post(
        self, channel: ChannelRef, message: Message, *, thread: str | None = None, key: str | None = None
    ) -> Posted: ...

    async def update(self, posted: Posted, message: Message, *, workspace: WorkspaceRef) -> None:
        """Replace a posted message; `workspace` says whose (Slack: which installation's token)."""
        ...

    async def send_dm(self, person: PersonRef, message: Message, *, key: str | None = None) -> Posted: ...

    async def find_sent(self, where: ChannelRef | PersonRef, key: str, *, thread: str | None = None) -> Posted | None:
        """After a crash: the message sent earlier under `key` (a DM to a person, or a post in a
        channel or thread), if the platform can tell; else None."""
        ...


class Summariser(Protocol):
    async def summarise(self, round_input: SummaryInput) -> SummaryResult: ...
