"""core/ stays platform-neutral: no platform SDK and no aiohttp anywhere in it."""

import ast
from pathlib import Path

FORBIDDEN = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp")
CORE = Path(__file__).resolve().parents[2] / "core"


def test_core_imports_no_platform_sdk():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(CORE.parent)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_only_core_llm_imports_openai():
    root = CORE.parent
    offenders = []
    for folder in ("core", "slack_app", "teams_app", "unmeet"):
        for path in (root / folder).rglob("*.py"):
            if path.is_relative_to(root / "core" / "llm"):
                continue
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                    offenders += [str(path.relative_to(root)) for n in names if n.split(".")[0] == "openai"]
    assert offenders == []
