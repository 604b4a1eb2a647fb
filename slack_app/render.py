"""The neutral message model rendered to Slack Block Kit (plain dicts), and modal state read back.

Two promises hold for everything rendered here:
- Text a person typed (`Plain`) is shown literally: `&`, `<` and `>` are escaped, and mrkdwn text is
  marked `verbatim`, so `<!channel>`, `<@U123>` or `<https://x|y>` typed into a title or an answer
  never becomes a mention or a link.
- Slack's size limits are enforced here (texts truncated with "…", block counts capped), so a long
  answer or summary never makes a post fail.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.messages.model import (Actions, Bold, Button, ChannelInput, Context, DateInput, Divider, Fields, Form,
                                 Header, Image, Link, Message, Notice, Plain, Rich, Section, SelectInput,
                                 TextInput, plain_text)

ELLIPSIS = "…"
SECTION_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
LABEL_MAX = 2000
PLACEHOLDER_MAX = 150
MODAL_TEXT_MAX = 24
METADATA_MAX = 3000
TEXT_INPUT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
MODAL_BLOCKS_MAX = 100
FIELDS_MAX = 10
BUTTONS_MAX = 25
FALLBACK_MAX = 3000
ERROR_MAX = 2000


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal in mrkdwn and plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def is_web_url(url: str) -> bool:
    return url.lower().startswith(("http://", "https://")) and len(url) <= URL_MAX


def safe_url(url: str) -> str | None:
    """A link's address for mrkdwn, or None when it must not be a link (only http(s) are);
    `|` and `>` would end Slack's <url|label> early."""
    if not is_web_url(url):
        return None
    return escape(url).replace("|", "%7C")


# --- rich text -> mrkdwn ----------------------------------------------------------------------------
def _atoms(span) -> list[str]:
    """A span as the smallest pieces that can be cut between without breaking markup."""
    if isinstance(span, Plain):
        return [escape(ch) for ch in span.text]
    if isinstance(span, Link):
        url = safe_url(span.url)
        if url is None:
            return [escape(ch) for ch in (span.label if span.label == span.url else f"{span.label} ({span.url})")]
        return [f"<{url}|{escape(span.label or span.url)}>"]
    marker = "*" if isinstance(span, Bold) else "_"
    inner = span.text.strip()
    if not inner:
        return [escape(ch) for ch in span.text]
    # mrkdwn needs the markers tight against the text: keep surrounding spaces outside them.
    lead = span.text[: len(span.text) - len(span.text.lstrip())]
    trail = span.text[len(span.text.rstrip()):]
    return [escape(ch) for ch in lead] + [(marker, [escape(ch) for ch in inner])] + [escape(ch) for ch in trail]


def _join(atoms: list) -> str:
    return "".join(a if isinstance(a, str) else a[0] + "".join(a[1]) + a[0] for a in atoms)


def mrkdwn(text: Rich, limit: int = SECTION_MAX) -> str:
    """Rich text as Slack mrkdwn of at most `limit` characters, cut between whole pieces of markup."""
    atoms = [atom for span in text for atom in _atoms(span)]
    whole = _join(atoms)
    if len(whole) <= limit:
        return whole
    room = limit - len(ELLIPSIS)
    out: list[str] = []
    for atom in atoms:
        if isinstance(atom, str):
            if len(atom) > room:
                break
            out.append(atom)
            room -= len(atom)
            continue
        marker, inner = atom
        taken: list[str] = []
        left = room - 2 * len(marker)
        for piece in inner:
            if len(piece) > left:
                break
            taken.append(piece)
            left -= len(piece)
        cut = "".join(taken)
        if cut and cut == cut.strip():
            out.append(marker + cut + marker)
            room = left
        elif cut:
            out.append(cut)
            room -= len(cut)
        if len(taken) < len(inner):
            break
    return "".join(out) + ELLIPSIS


def _mrkdwn_object(text: Rich, limit: int = SECTION_MAX) -> dict | None:
    rendered = mrkdwn(text, limit)
    if not rendered.strip():
        return None
    return {"type": "mrkdwn", "text": rendered, "verbatim": True}


def _plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}


# --- blocks ---------------------------------------------------------------------------------------
def _button(button: Button) -> dict:
    element: dict[str, Any] = {"type": "button", "action_id": button.action[:255],
                               "text": _plain(button.label, BUTTON_TEXT_MAX)}
    if button.value:
        element["value"] = button.value[:BUTTON_VALUE_MAX]
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    if button.url and is_web_url(button.url):
        element["url"] = button.url
    return element


def block(item) -> dict | None:
    """One neutral block as Block Kit; None when there is nothing to show (Slack refuses empty text)."""
    if isinstance(item, Header):
        return {"type": "header", "text": _plain(item.text, HEADER_MAX)} if item.text.strip() else None
    if isinstance(item, Section):
        text = _mrkdwn_object(item.text)
        return {"type": "section", "text": text} if text else None
    if isinstance(item, Fields):
        fields = [{"type": "mrkdwn", "verbatim": True,
                   "text": mrkdwn((Bold(label), Plain("\n"), *value), FIELD_MAX)}
                  for label, value in item.pairs[:FIELDS_MAX]]
        return {"type": "section", "fields": fields} if fields else None
    if isinstance(item, Context):
        text = _mrkdwn_object(item.text)
        return {"type": "context", "elements": [text]} if text else None
    if isinstance(item, Divider):
        return {"type": "divider"}
    if isinstance(item, Actions):
        buttons = [_button(b) for b in item.buttons[:BUTTONS_MAX]]
        return {"type": "actions", "elements": buttons} if buttons else None
    if isinstance(item, Image):
        if not is_web_url(item.url):
            return None
        return {"type": "image", "image_url": item.url, "alt_text": shorten(item.alt or " ", LABEL_MAX)}
    raise TypeError(f"no Block Kit rendering for {type(item).__name__}")


def blocks(items, limit: int) -> list[dict]:
    rendered = [b for b in (block(item) for item in items) if b is not None]
    if len(rendered) > limit:
        rendered = rendered[: limit - 1] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": ELLIPSIS}]}]
    return rendered


def message(msg: Message) -> dict:
    """Arguments for chat.postMessage / chat.update: `blocks` and the notification `text`."""
    return {"blocks": blocks(msg.blocks, MESSAGE_BLOCKS_MAX), "text": shorten(escape(msg.fallback), FALLBACK_MAX)}


def notice(item: Notice) -> dict:
    """Arguments for chat.postEphemeral."""
    section = _mrkdwn_object(item.text)
    content = [{"type": "section", "text": section}] if section else []
    if item.actions:
        content.append({"type": "actions", "elements": [_button(b) for b in item.actions[:BUTTONS_MAX]]})
    return {"text": shorten(escape(plain_text(item.text)), FALLBACK_MAX), "blocks": content}


# --- forms -> modals ------------------------------------------------------------------------------
def _option(value: str, label: str) -> dict:
    return {"text": _plain(label, OPTION_TEXT_MAX), "value": value[:OPTION_VALUE_MAX]}


def _element(item) -> dict:
    if isinstance(item, TextInput):
        element: dict[str, Any] = {"type": "plain_text_input", "multiline": item.multiline}
        limit = min(item.max_length or TEXT_INPUT_MAX, TEXT_INPUT_MAX)
        element["max_length"] = limit
        if item.initial:
            element["initial_value"] = item.initial[:limit]
        if item.placeholder:
            element["placeholder"] = _plain(item.placeholder, PLACEHOLDER_MAX)
        return element
    if isinstance(item, DateInput):
        element = {"type": "datepicker"}
        if item.initial is not None:
            element["initial_date"] = item.initial.isoformat()
        return element
    if isinstance(item, SelectInput):
        options = [_option(c.value, c.label) for c in item.options[: 10 if item.radio else 100]]
        element = {"type": "radio_buttons" if item.radio else "static_select", "options": options}
        initial = next((o for o in options if o["value"] == item.initial), None)
        if initial is not None:
            element["initial_option"] = initial
        return element
    if isinstance(item, ChannelInput):
        element = {"type": "conversations_select",
                   "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
        if item.initial:
            element["initial_conversation"] = item.initial
        else:
            element["default_to_current_conversation"] = True
        return element
    raise TypeError(f"no Block Kit element for {type(item).__name__}")


def _input(item) -> dict:
    element = _element(item)
    element["action_id"] = item.id
    block_: dict[str, Any] = {"type": "input", "block_id": item.id, "label": _plain(item.label, LABEL_MAX),
                              "element": element, "optional": bool(getattr(item, "optional", False))}
    if getattr(item, "hint", None):
        block_["hint"] = _plain(item.hint, LABEL_MAX)
    return block_


def modal(form: Form) -> dict:
    """A form as a modal view (views.open, or `response_action: update`)."""
    content = blocks(form.intro, MODAL_BLOCKS_MAX)
    content += [_input(item) for item in form.inputs]
    if form.actions:
        content.append({"type": "actions", "elements": [_button(b) for b in form.actions[:BUTTONS_MAX]]})
    return {"type": "modal", "callback_id": form.id, "title": _plain(form.title, MODAL_TEXT_MAX),
            "submit": _plain(form.submit, MODAL_TEXT_MAX), "close": _plain(form.close, MODAL_TEXT_MAX),
            "private_metadata": form.metadata[:METADATA_MAX], "blocks": content[:MODAL_BLOCKS_MAX]}


def form_errors(form: Form) -> dict:
    """The ack for a submission with mistakes: Slack shows each sentence under its input and keeps
    every value the person typed."""
    return {"response_action": "errors",
            "errors": {field: shorten(text, ERROR_MAX) for field, text in form.errors.items()}}


# --- modal state -> values ------------------------------------------------------------------------
def _value(element: dict) -> str | date | None:
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("value")
        return value if isinstance(value, str) else ""
    if kind == "datepicker":
        try:
            return date.fromisoformat(element.get("selected_date") or "")
        except (TypeError, ValueError):
            return None
    if kind in ("radio_buttons", "static_select"):
        option = element.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None
    for key in ("selected_conversation", "selected_channel", "selected_user"):
        if key in element:
            value = element[key]
            return value if isinstance(value, str) else None
    return None


def form_values(view: dict) -> dict[str, str | date | None]:
    """`view.state.values` as input id -> value (text, date, chosen option value, channel id)."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    out: dict[str, str | date | None] = {}
    if not isinstance(values, dict):
        return out
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        element = actions.get(block_id)
        if element is None and actions:
            element = next(iter(actions.values()))
        if isinstance(element, dict):
            out[block_id] = _value(element)
    return out
