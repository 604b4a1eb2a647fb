"""What stands where a person's words were, once their data is erased."""

from __future__ import annotations

from core.messages.i18n import Translator
from core.messages.model import Context, Italic, Message, rich


def removed(t: Translator) -> Message:
    """Replaces an answer in a thread (or a round's channel post) whose writer had their data erased."""
    text = t.gettext("Removed at the request of the person who wrote it.")
    return Message((Context(rich(Italic(text))),), fallback=text)
