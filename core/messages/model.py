"""The neutral message model: what core says, before a platform renders it.

Slack renders it to Block Kit (`slack_app/render.py`), Teams to Adaptive Cards 1.5
(`teams_app/render.py`). Text is a sequence of spans; `Plain` text is always shown literally, so
nothing a person typed can become a mention, a link or markup on either platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


# --- inline text ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Plain:
    text: str


@dataclass(frozen=True)
class Bold:
    text: str


@dataclass(frozen=True)
class Italic:
    text: str


@dataclass(frozen=True)
class Link:
    url: str
    label: str


Span = Plain | Bold | Italic | Link
Rich = tuple[Span, ...]


def rich(*parts: str | Span) -> Rich:
    """Build rich text; bare strings are plain (escaped) text."""
    return tuple(Plain(p) if isinstance(p, str) else p for p in parts if p != "")


def plain_text(text: Rich) -> str:
    """The text without formatting (notification fallbacks, tests)."""
    out = []
    for span in text:
        if isinstance(span, Link):
            out.append(f"{span.label} ({span.url})" if span.label != span.url else span.url)
        else:
            out.append(span.text)
    return "".join(out)


# --- blocks --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Section:
    text: Rich


@dataclass(frozen=True)
class Fields:
    pairs: tuple[tuple[str, Rich], ...]


@dataclass(frozen=True)
class Context:
    text: Rich


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # a stable action id, e.g. "round.answer"
    value: str = ""
    style: str | None = None  # "primary" | "danger"
    url: str | None = None


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Image:
    url: str
    alt: str


Block = Header | Section | Fields | Context | Divider | Actions | Image


@dataclass(frozen=True)
class Message:
    blocks: tuple[Block, ...]
    fallback: str  # plain text for notifications and screen readers
    attachments: tuple["File", ...] = ()


@dataclass(frozen=True)
class File:
    """A file sent with a message (e.g. the digest chart)."""

    name: str
    content: bytes
    mime: str
    alt: str


# --- forms (Slack modal, Teams card form) --------------------------------------------------
@dataclass(frozen=True)
class TextInput:
    id: str
    label: str
    initial: str = ""
    multiline: bool = False
    max_length: int | None = None
    optional: bool = False
    placeholder: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class DateInput:
    id: str
    label: str
    initial: date | None = None
    optional: bool = False


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class SelectInput:
    id: str
    label: str
    options: tuple[Choice, ...]
    initial: str | None = None
    radio: bool = False


@dataclass(frozen=True)
class ChannelInput:
    id: str
    label: str
    initial: str | None = None


Input = TextInput | DateInput | SelectInput | ChannelInput


@dataclass(frozen=True)
class Form:
    id: str  # callback id: which form this is
    title: str
    submit: str
    close: str
    inputs: tuple[Input, ...]
    intro: tuple[Block, ...] = ()
    metadata: str = ""  # opaque state carried through the platform (≤ 3,000 chars on Slack)
    errors: dict[str, str] = field(default_factory=dict)  # input id -> sentence in the person's language
    actions: tuple[Button, ...] = ()  # extra buttons inside the form (e.g. "Draft with AI")


@dataclass(frozen=True)
class Notice:
    """A short answer only the person who acted sees (Slack ephemeral, Teams reply card)."""

    text: Rich
    actions: tuple[Button, ...] = ()  # e.g. "Summarise now" under the author's "Shared."


def row_id(value) -> int | None:
    """An id from a button's value or a form's metadata: digits that fit a database id, else None (a
    payload can hold anything)."""
    text = value if isinstance(value, str) else str(value)
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2 ** 31 else None


def submitted_text(values: dict, key: str) -> str:
    """A submitted form's text field; "" when it is missing or not text (a payload can hold anything)."""
    value = values.get(key)
    return value if isinstance(value, str) else ""
