"""What a form's submission comes to, for every feature: the form again with its errors, or done
with a message. The adapters render either (a modal with errors or a closed one; a Teams card)."""

from __future__ import annotations

from dataclasses import dataclass

from core.messages.model import Form, Message


@dataclass(frozen=True)
class Invalid:
    """The form again, with what the person typed and a sentence per wrong field."""

    form: Form


@dataclass(frozen=True)
class Done:
    message: Message
