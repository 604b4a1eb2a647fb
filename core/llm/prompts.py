"""Prompt files: `prompts/<task>/v<N>.md`, loaded by id ("summarize_round/v1") and filled in by code.
`prompts` is a package of data files only, so a built wheel ships them (package-data in pyproject.toml).

A file holds an optional `# system` part (instructions) and a `# user` part (the data, fenced as
`<<<NAME … NAME>>>`). Values are put in with `string.Template` (`$name`), so the JSON examples in
the instructions need no escaping. People's text can't close a fence early: `fence_safe` takes the
markers out of every value before it goes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

import prompts

PROMPTS_DIR = Path(prompts.__file__).resolve().parent
_ID = re.compile(r"^[a-z_]+/v[0-9]+$")
_PART = re.compile(r"^# (system|user)\s*$", re.MULTILINE)
_FENCE = re.compile(r"<{3,}|>{3,}")


@dataclass(frozen=True)
class Prompt:
    id: str
    system: str
    user: str

    def render(self, variables: dict[str, object]) -> list[dict[str, str]]:
        """The chat messages. A missing variable is an error (KeyError), never a silent blank."""
        values = {name: fence_safe(str(value)) for name, value in variables.items()}
        messages = []
        if self.system:
            messages.append({"role": "system", "content": Template(self.system).substitute(values)})
        messages.append({"role": "user", "content": Template(self.user).substitute(values)})
        return messages


def fence_safe(text: str) -> str:
    """Remove runs of `<<<`/`>>>` so text inside a fence can't end it or open another."""
    return _FENCE.sub(lambda m: m.group(0)[0] * 2, text)


@lru_cache(maxsize=None)
def load(prompt_id: str) -> Prompt:
    if not _ID.match(prompt_id):
        raise ValueError(f"not a prompt id: {prompt_id!r} (expected like 'summarize_round/v1')")
    text = (PROMPTS_DIR / f"{prompt_id}.md").read_text(encoding="utf-8")
    parts = _PART.split(text)
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2])))
    if "user" not in sections:
        raise ValueError(f"prompt {prompt_id} has no '# user' part")
    return Prompt(prompt_id, sections.get("system", ""), sections["user"])


def released() -> list[str]:
    """Every prompt id on disk, e.g. for the test that renders them all."""
    return sorted(f"{path.parent.name}/{path.stem}" for path in PROMPTS_DIR.glob("*/v*.md"))
