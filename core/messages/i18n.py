"""Translations: English source strings, Dutch catalogues in `locales/nl/LC_MESSAGES/*.po`.

Catalogues are read with Babel and compiled in memory at first use, so there is no build step and
no generated file to forget. Every `.po` file in the folder is merged (one file per feature keeps
merges simple).
"""

from __future__ import annotations

import gettext
from datetime import date as Date, datetime as DateTime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from core.domain.rounds import zone

LOCALES_DIR = Path(__file__).parent / "locales"
SUPPORTED = ("en", "nl")
DEFAULT = "en"


def normalise(locale: str | None) -> str | None:
    """Platform locales (`nl-BE`, `nl_NL`, `en-GB`) -> a supported language, or None."""
    if not locale:
        return None
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in SUPPORTED else None


def resolve(*candidates: str | None) -> str:
    """The first supported language among the person's, the workspace's, …; else English."""
    for candidate in candidates:
        if (language := normalise(candidate)) is not None:
            return language
    return DEFAULT


@lru_cache(maxsize=None)
def _translations(language: str) -> gettext.NullTranslations:
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    merged: gettext.NullTranslations | None = None
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        translations = Translations(buffer)
        if merged is None:
            merged = translations
        else:
            merged.merge(translations)
    return merged or gettext.NullTranslations()


class Translator:
    """The texts and formats of one language."""

    def __init__(self, language: str):
        self.language = language
        self._t = _translations(language)

    def gettext(self, message: str, **params) -> str:
        text = self._t.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params) -> str:
        return self._t.ngettext(singular, plural, n).format(n=n, **params)

    def date(self, value: Date, fmt: str = "medium") -> str:
        return format_date(value, format=fmt, locale=self.language)

    def datetime(self, value: DateTime, tz: str | None, fmt: str = "EEEE d MMMM, HH:mm") -> str:
        return format_datetime(value, format=fmt, tzinfo=zone(tz), locale=self.language)


def translator(*candidates: str | None) -> Translator:
    return Translator(resolve(*candidates))
