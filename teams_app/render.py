"""The neutral message model -> Adaptive Cards 1.5, the highest version Teams renders.

Teams interprets a TextBlock's text as Markdown (bold, italic, lists, links, headings in some
clients), so every `Plain` span is escaped: what a person typed is shown literally and never
becomes a link, a list or emphasis. Only `Link` spans become links, and only http(s) ones.

Forms become cards with inputs and one `Action.Submit`. The submit data carries the form id
(`"unmeet": form.id`), its metadata, a fresh nonce (so a second submit of the same card is
recognised) and the values of inputs Teams has no control for (the channel: the current one).
Teams sends the inputs' values merged into that data.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from urllib.parse import quote, urlsplit

from core.messages.model import (Actions, Bold, Button, ChannelInput, Context, DateInput, Divider, Fields, Form,
                                 Header, Image, Italic, Link, Message, Notice, Plain, Rich, Section, SelectInput,
                                 TextInput)

CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ACTION_KEY = "unmeet"  # the key of the action id in every Action.Submit's data
MESSAGE_BUDGET = 26_000  # characters of card JSON; Teams refuses bot messages over about 28 KB in all
DATA_PNG = "data:image/png;base64,"
IMAGE_ELEMENT = 400  # characters of an Image element besides its base64 data (type, alt text, prefix)

# Characters Markdown may act on anywhere in a line, and what it may act on at the start of a line
# (headings, lists, setext underlines; for "1." the dot is escaped, as a backslash before a digit shows).
_ANYWHERE = re.compile(r"([\\`*_\[\]<>~|])")
_LINE_MARK = re.compile(r"^(\s*)([#+=-])")
_LINE_NUMBER = re.compile(r"^(\s*\d+)([.)])")


def escape(text: str, *, at_line_start: bool = True) -> str:
    """Text shown literally in a Markdown TextBlock (CommonMark backslash escapes). With
    `at_line_start=False` the text continues a line, so its first line gets no line-start escapes."""
    lines = _ANYWHERE.sub(r"\\\1", text).split("\n")
    for index, line in enumerate(lines):
        if index or at_line_start:
            lines[index] = _LINE_NUMBER.sub(r"\1\\\2", _LINE_MARK.sub(r"\1\\\2", line))
    return "\n".join(lines)


def safe_url(url: str) -> str | None:
    """The URL if it is http(s) with a host, made safe inside Markdown's (…); else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%~-._[]")


def _wrapped(marker: str, text: str, at_line_start: bool) -> str:
    """Emphasis with the spaces outside the markers (`** 1. **` would not be bold in Markdown)."""
    core = text.strip()
    if not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    return lead + marker + escape(core, at_line_start=at_line_start and not lead) + marker + trail


def markdown(text: Rich) -> str:
    out: list[str] = []
    for span in text:
        at_start = not out or out[-1].endswith("\n")
        if isinstance(span, Plain):
            out.append(escape(span.text, at_line_start=at_start))
        elif isinstance(span, Bold):
            out.append(_wrapped("**", span.text, at_start))
        elif isinstance(span, Italic):
            out.append(_wrapped("_", span.text, at_start))
        elif isinstance(span, Link):
            url = safe_url(span.url)
            label = escape(span.label or span.url, at_line_start=False)
            out.append(f"[{label}]({url})" if url else escape(span.label or span.url, at_line_start=at_start))
    # A single newline is a soft break in Markdown (shown as a space); a blank line keeps the break.
    return "".join(out).replace("\n", "\n\n")


def _text(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _action(button: Button, extra: dict | None = None) -> dict:
    url = safe_url(button.url) if button.url else None
    if url:
        return {"type": "Action.OpenUrl", "title": button.label, "url": url}
    action = {"type": "Action.Submit", "title": button.label,
              "data": {ACTION_KEY: button.action, "value": button.value, **(extra or {})}}
    if button.style in ("primary", "danger"):
        action["style"] = "positive" if button.style == "primary" else "destructive"
    return action


def _block(block) -> dict | None:
    if isinstance(block, Header):
        return _text(escape(block.text), style="heading", size="Large", weight="Bolder")
    if isinstance(block, Section):
        return _text(markdown(block.text))
    if isinstance(block, Context):
        return _text(markdown(block.text), size="Small", isSubtle=True)
    if isinstance(block, Fields):
        return {"type": "FactSet", "facts": [{"title": escape(label), "value": markdown(value)}
                                             for label, value in block.pairs]}
    if isinstance(block, Actions):
        return {"type": "ActionSet", "actions": [_action(b) for b in block.buttons]}
    if isinstance(block, Image):
        url = safe_url(block.url)
        return {"type": "Image", "url": url, "altText": block.alt} if url else None
    raise TypeError(f"no Teams rendering for {type(block).__name__}")


def _body(blocks) -> list[dict]:
    """Blocks in order; a Divider becomes a separator line above the next element."""
    body: list[dict] = []
    separate = False
    for block in blocks:
        if isinstance(block, Divider):
            separate = True
            continue
        element = _block(block)
        if element is None:
            continue
        if separate:
            element["separator"] = True
            separate = False
        body.append(element)
    return body


def card(body: list[dict], actions: list[dict] | None = None, fallback: str = "") -> dict:
    result = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
              "version": CARD_VERSION, "body": body}
    if actions:
        result["actions"] = actions
    if fallback:
        result["fallbackText"] = fallback
    return result


def message_card(message: Message) -> dict:
    """The message; its image attachments (the digest chart) as Image elements with data URIs, since a
    bot can't upload a file to a channel without Graph. Teams refuses messages over about 28 KB, so
    each image is made to fit what the text leaves (see `fit_png`)."""
    body = _body(message.blocks)
    images = [f for f in message.attachments if f.mime == "image/png"]
    room = (MESSAGE_BUDGET - len(json.dumps(card(body, fallback=message.fallback)))) // max(len(images), 1)
    for file in images:
        png = fit_png(file.content, (room - IMAGE_ELEMENT) * 3 // 4)  # base64: 4 characters per 3 bytes
        if png is not None:
            body.append({"type": "Image", "url": DATA_PNG + base64.b64encode(png).decode(), "altText": file.alt})
    return card(body, fallback=message.fallback)


def fit_png(content: bytes, budget: int) -> bytes | None:
    """The PNG within `budget` bytes: as it is, else with a 64-colour palette (a chart has few colours;
    that alone makes the digest chart about a quarter of its size), else smaller; None if nothing fits."""
    if len(content) <= budget:
        return content
    from PIL import Image as Picture  # matplotlib's own PNG writer; imported only for an image this big

    picture = Picture.open(io.BytesIO(content)).convert("RGB")
    while picture.width >= 160:
        out = io.BytesIO()
        picture.quantize(colors=64).save(out, "PNG", optimize=True)
        if out.tell() <= budget:
            return out.getvalue()
        picture = picture.resize((picture.width * 3 // 4, picture.height * 3 // 4), Picture.LANCZOS)
    return None


def notice_card(notice: Notice, *, buttons: tuple[Button, ...] = ()) -> dict:
    return card([_text(markdown(notice.text))], [_action(b) for b in buttons])


def _input(field, value_error: str | None) -> list[dict]:
    """One input and, under it, the sentence saying what is wrong with it (if anything)."""
    if isinstance(field, TextInput):
        value = field.initial[: field.max_length] if field.max_length else field.initial
        element = {"type": "Input.Text", "id": field.id, "label": field.label, "value": value,
                   "isMultiline": field.multiline}
        if field.max_length:
            element["maxLength"] = field.max_length
        if field.placeholder:
            element["placeholder"] = field.placeholder
    elif isinstance(field, DateInput):
        element = {"type": "Input.Date", "id": field.id, "label": field.label}
        if field.initial is not None:
            element["value"] = field.initial.isoformat()
    elif isinstance(field, SelectInput):
        element = {"type": "Input.ChoiceSet", "id": field.id, "label": field.label,
                   "choices": [{"title": c.label, "value": c.value} for c in field.options],
                   "style": "expanded" if field.radio else "compact"}
        if field.initial:
            element["value"] = field.initial
    else:
        raise TypeError(f"no Teams input for {type(field).__name__}")
    if not getattr(field, "optional", False):
        element["isRequired"] = True
    out = [element]
    if getattr(field, "hint", None):
        out.append(_text(escape(field.hint), size="Small", isSubtle=True, spacing="None"))
    if value_error:
        out.append(_text(escape(value_error), color="Attention", size="Small", spacing="None"))
    return out


def form_card(form: Form, *, required_message: str = "") -> dict:
    """A form as a card. `required_message` is what the Teams client shows under an empty required
    input when someone presses the submit button (it checks before sending)."""
    body = [_text(escape(form.title), style="heading", size="Medium", weight="Bolder")]
    body += _body(form.intro)
    data: dict = {ACTION_KEY: form.id, "meta": form.metadata, "nonce": uuid.uuid4().hex}
    for field in form.inputs:
        if isinstance(field, ChannelInput):  # Teams has no channel picker: the current channel
            data[field.id] = field.initial or ""
            continue
        elements = _input(field, form.errors.get(field.id))
        if required_message and elements[0].get("isRequired"):
            elements[0]["errorMessage"] = required_message
        body += elements
    submit = {"type": "Action.Submit", "title": form.submit, "style": "positive", "data": data}
    extra = [_action(b, {"meta": form.metadata}) for b in form.actions]
    return card(body, [submit, *extra], fallback=form.title)
