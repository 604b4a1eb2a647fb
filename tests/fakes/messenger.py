"""An in-memory Messenger (the core port) for service tests that need no platform."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from core.domain.refs import ChannelRef, PersonRef, Posted
from core.messages.model import Actions, Form, Message, Notice, plain_text
from core.ports import Person, RetryLater, Unreachable


@dataclass
class Sent:
    conversation: str
    id: str
    message: Message
    thread: str | None = None
    key: str | None = None


@dataclass
class FakeMessenger:
    platform: str = "slack"
    people: dict[str, Person] = field(default_factory=dict)
    channels: dict[str, list[str]] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)  # channels whose posts are rate limited for a second
    sent: list[Sent] = field(default_factory=list)
    updates: list[Sent] = field(default_factory=list)
    notices: list[tuple[PersonRef, Notice, str | None]] = field(default_factory=list)  # (person, notice, channel)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_person(self, ws, user_id: str, name: str, **facts) -> PersonRef:
        ref = PersonRef(ws, user_id)
        self.people[user_id] = Person(ref, name, **facts)
        return ref

    async def person(self, ref: PersonRef) -> Person:
        return self.people[ref.id]

    async def member_count(self, channel: ChannelRef) -> int:
        return len(self.channels.get(channel.id, []))

    async def channel_members(self, channel: ChannelRef) -> list[Person]:
        return [Person(PersonRef(channel.workspace, uid), "") for uid in self.channels.get(channel.id, [])]

    def _record(self, conversation: str, message: Message, thread, key) -> Posted:
        posted = Posted(conversation, f"m{next(self._ids)}")
        self.sent.append(Sent(conversation, posted.id, message, thread, key))
        return posted

    async def post(self, channel: ChannelRef, message: Message, *, thread=None, key=None) -> Posted:
        if channel.id in self.busy:
            raise RetryLater("rate limited", seconds=1)
        return self._record(channel.id, message, thread, key)

    async def update(self, posted: Posted, message: Message, *, workspace) -> None:
        self.updates.append(Sent(posted.conversation, posted.id, message))

    async def send_dm(self, person: PersonRef, message: Message, *, key=None) -> Posted:
        if person.id in self.unreachable:
            raise Unreachable("blocked")
        return self._record(f"D{person.id}", message, None, key)

    async def notice(self, person: PersonRef, notice: Notice, *, channel: str | None = None) -> None:
        self.notices.append((person, notice, channel))

    async def find_sent(self, where, key: str, *, thread=None) -> Posted | None:
        for sent in self.sent:
            if sent.key == key:
                return Posted(sent.conversation, sent.id)
        return None

    def dms(self, user_id: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation == f"D{user_id}"]


def text_of(result: Message | Form) -> str:
    """What a person reads of a message (its blocks' text and its buttons) or of a form (its title,
    intro, field labels and errors), one part a line."""
    if isinstance(result, Form):
        parts = [result.title, *(plain_text(b.text) for b in result.intro if hasattr(b, "text")),
                 *(i.label for i in result.inputs), *result.errors.values()]
        return "\n".join(parts)
    parts = []
    for block in result.blocks:
        value = getattr(block, "text", None)
        parts.append(value if isinstance(value, str) else plain_text(value) if value else "")
        if isinstance(block, Actions):
            parts += [b.label for b in block.buttons]
    return "\n".join(parts)


def buttons(message: Message) -> list:
    return [b for block in message.blocks if isinstance(block, Actions) for b in block.buttons]
