"""Model output is text, never markup: strip what a platform would turn into a mention, a link or
an image (OWASP LLM05). Used on every string a model returns, before it goes anywhere.

Renderers escape `Plain` text as well; this is the second fence, and it also covers the platforms'
"smart" formats (Slack's `<!here>`, `<@U…>`, `<url|label>`; Teams' `<at>`; Markdown links/images).
"""

from __future__ import annotations

import re

_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SLACK_LINK = re.compile(r"<((?:https?|mailto|ftp|slack|tel):[^<>|]*)(?:\|([^<>]*))?>", re.IGNORECASE)
_SLACK_SPECIAL = re.compile(r"<[!@#^][^<>]*>")  # <!channel>, <!here>, <!subteam^S1>, <@U1>, <#C1|x>
_TEAMS_AT = re.compile(r"</?at\b[^>]*>", re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]*)\)")
_HTML_TAG = re.compile(r"</?(?:img|a|script|iframe)\b[^>]*>", re.IGNORECASE)
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"'`]+", re.IGNORECASE)
_BROADCAST = re.compile(r"(?<![\w@])@(channel|here|everyone|all)\b", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]{2,}")


def urls_in(texts) -> frozenset[str]:
    """The links people wrote themselves: only these may appear in model output."""
    return frozenset(_clean_url(m.group(0)) for text in texts for m in _URL.finditer(text))


def _clean_url(url: str) -> str:
    return url.rstrip(".,;:!?)]}")


def neutralise(text: str, allowed_urls: frozenset[str] = frozenset(), *, limit: int | None = None) -> str:
    text = _INVISIBLE.sub("", text)
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SLACK_SPECIAL.sub("", text)
    text = _TEAMS_AT.sub("", text)
    text = _HTML_TAG.sub("", text)
    text = _MD_IMAGE.sub(lambda m: m.group(1), text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)

    def url(match: re.Match) -> str:
        found = match.group(0)
        cleaned = _clean_url(found)
        return found if cleaned in allowed_urls else found[len(cleaned):]

    text = _URL.sub(url, text)
    text = _BROADCAST.sub(lambda m: m.group(1), text)
    text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text
