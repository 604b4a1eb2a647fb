"""Everything a person reads exists in English and Dutch: every message id in the code has a Dutch
translation in the catalogues, with the same {placeholders}."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from core.messages.i18n import translator

ROOT = Path(__file__).resolve().parents[2]
# `_` too: views write `_ = t.gettext` and then `_("…")`.
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}
# Words Dutch writes the same way (their catalogue entry would be a copy of the id).
SAME_IN_DUTCH = {"open", "Focus", "Feedback", "Agenda", "Driver's Seat", "Start"}


def message_ids():
    for folder in ("core", "slack_app", "teams_app", "unmeet"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
            yield message


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_every_message_has_a_dutch_translation():
    nl = translator("nl")
    missing, broken = [], []
    for message in message_ids():
        if isinstance(message, tuple):
            singular, plural = message[0], message[1]
            one, many = nl._t.ngettext(singular, plural, 1), nl._t.ngettext(singular, plural, 2)
            if one == singular and many == plural:
                missing.append(singular)
            elif placeholders(many) != placeholders(plural):
                broken.append(plural)
        else:
            text = nl._t.gettext(message)
            if text == message and placeholders(message) != {"model"} and message.strip() \
                    and message not in SAME_IN_DUTCH:
                missing.append(message)
            elif placeholders(text) != placeholders(message):
                broken.append(message)
    assert missing == [], "add these to a .po file in core/messages/locales/nl/LC_MESSAGES/"
    assert broken == [], "placeholders differ between English and Dutch"


def test_language_follows_person_then_workspace():
    assert translator("nl-BE").language == "nl"
    assert translator(None, "nl_NL").language == "nl"
    assert translator("fr-FR", "en-GB").language == "en"
    assert translator(None, None).language == "en"
