"""Buttons of the LLM feature, for whichever message or form offers them."""

from __future__ import annotations

from dataclasses import replace

from core.messages.i18n import Translator
from core.messages.model import Button, Form

DRAFT_ACTION = "llm.draft"
SUMMARISE_NOW_ACTION = "llm.summarise_now"


def draft_button(t: Translator) -> Button:
    """In the share form: replace its fields with a draft made from what the lead typed in Text."""
    return Button(t.gettext("Draft with AI"), DRAFT_ACTION)


def summarise_now_button(t: Translator, round_id: int) -> Button:
    """For the author of an open round: a private summary of the answers so far."""
    return Button(t.gettext("Summarise now"), SUMMARISE_NOW_ACTION, str(round_id))


def with_draft_button(form: Form, t: Translator) -> Form:
    return replace(form, actions=tuple(b for b in form.actions if b.action != DRAFT_ACTION) + (draft_button(t),))
