"""Check Adaptive Cards against the official 1.5 schema, the highest version Teams renders.

The schema is draft-06 (see tests/schemas/README.md for its quirks): enum-like properties are
not type-checked there, so this helper adds the two checks that matter most for Teams and that
the schema leaves open: the card is an AdaptiveCard and its version is at most 1.5.
"""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "adaptive-card-1.5.json"
MAX_TEAMS_VERSION = (1, 5)


@cache
def _validator() -> Draft6Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


def card_errors(card: dict) -> list[str]:
    """Every problem with `card`, one readable line each (empty when the card is valid)."""
    problems = []
    if card.get("type") != "AdaptiveCard":
        problems.append(f"/type: expected 'AdaptiveCard', got {card.get('type')!r}")
    version = str(card.get("version", ""))
    try:
        parts = tuple(int(p) for p in version.split("."))
    except ValueError:
        parts = ()
    if not parts or parts > MAX_TEAMS_VERSION:
        problems.append(f"/version: Teams renders Adaptive Cards up to 1.5, got {version!r}")

    for error in _validator().iter_errors(card):
        for leaf in _explain(error):
            problems.append(f"{_pointer(leaf.absolute_path)}: {leaf.message[:300]}")
    return problems


def assert_valid_card(card: dict) -> None:
    """Fail the test with every schema problem of `card` listed."""
    problems = card_errors(card)
    assert not problems, "Invalid Adaptive Card 1.5:\n  " + "\n  ".join(problems)


def _pointer(path) -> str:
    return "/" + "/".join(str(p) for p in path)


def _explain(error: ValidationError) -> list[ValidationError]:
    """Narrow an `anyOf` failure to the branch that was meant.

    The schema lists every element kind as one `anyOf` branch, so a bad TextBlock fails as
    "not valid under any of the given schemas". The branch whose `type` matches the element is
    the one the author meant; its own errors are the useful message.
    """
    if error.validator != "anyOf" or not error.context:
        return [error]
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    type_path = [*error.absolute_path, "type"]
    meant = [
        errs for errs in branches.values()
        if not any(list(e.absolute_path) == type_path and e.validator in ("enum", "const") for e in errs)
    ]
    if len(meant) == 1:
        return [leaf for sub in meant[0] for leaf in _explain(sub)]
    if all(sub.absolute_path == error.absolute_path for sub in error.context):
        # A value-level anyOf (enum or case-insensitive pattern): the enum names the choices.
        leaves = [leaf for sub in error.context for leaf in _explain(sub)]
        return [leaf for leaf in leaves if leaf.validator == "enum"][:1] or [error]
    return [error]
