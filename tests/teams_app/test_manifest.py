"""The Teams manifest and the package built from it are what Teams accepts.

Validated with a draft-06 validator: the 1.29 schema says draft-04 but uses `const`, which a
draft-04 validator ignores (so a wrong manifestVersion would slip through).
"""

import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from jsonschema import Draft6Validator
from PIL import Image

from teams_app.package import MANIFEST_DIR, PLACEHOLDER_ID, build_package

SCHEMA = json.loads((Path(__file__).parent.parent / "schemas" / "teams-manifest-1.29.json").read_text())
APP_ID = "1b4f6c2e-8d3a-4f5b-9c7e-2a1d0e3f4b5c"
COMMANDS = {"share insight", "focus", "meeting-check", "one thing", "drivers seat", "agreements", "stuck", "programme",
            "digest", "home", "settings", "help"}


def _errors(manifest: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft6Validator(SCHEMA).iter_errors(manifest)]


def _manifest() -> dict:
    return json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_validates_against_the_1_29_schema():
    manifest = _manifest()
    assert _errors(manifest) == []
    assert manifest["$schema"].endswith("/teams/v1.29/MicrosoftTeams.schema.json")


def test_the_validator_would_catch_a_wrong_manifest_version():
    assert _errors({**_manifest(), "manifestVersion": "1.5"})


def test_bot_scopes_and_commands():
    [bot] = _manifest()["bots"]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    by_scope = {tuple(lst["scopes"]): lst["commands"] for lst in bot["commandLists"]}
    for scope in (("personal",), ("team",)):
        assert {c["title"] for c in by_scope[scope]} == COMMANDS
        # Teams shows at most 128 characters of a command description.
        assert all(0 < len(c["description"]) <= 128 for c in by_scope[scope])


def test_icons_have_the_sizes_teams_requires():
    color = Image.open(MANIFEST_DIR / "color.png")
    outline = Image.open(MANIFEST_DIR / "outline.png").convert("RGBA")
    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    visible = [px for px in outline.get_flattened_data() if px[3] > 0]
    assert visible, "outline icon is empty"
    assert {px[:3] for px in visible} == {(255, 255, 255)}, "outline must be white on transparent"
    assert any(px[3] == 0 for px in outline.get_flattened_data()), "outline needs a transparent background"


def test_package_has_three_files_with_the_app_id_filled_in(tmp_path):
    path = build_package(APP_ID, tmp_path / "out" / "unmeet.zip")

    with zipfile.ZipFile(path) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert Image.open(BytesIO(package.read("color.png"))).size == (192, 192)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert PLACEHOLDER_ID not in json.dumps(manifest)
    assert _errors(manifest) == []


def test_package_from_another_manifest_dir(tmp_path):
    source = tmp_path / "custom"
    source.mkdir()
    manifest = {**_manifest(), "version": "9.9.9"}
    (source / "manifest.json").write_text(json.dumps(manifest))
    for icon in ("color.png", "outline.png"):
        (source / icon).write_bytes((MANIFEST_DIR / icon).read_bytes())

    path = build_package(APP_ID, tmp_path / "p.zip", manifest_dir=source)

    with zipfile.ZipFile(path) as package:
        assert json.loads(package.read("manifest.json"))["version"] == "9.9.9"


@pytest.mark.parametrize("bad", ["", "unmeet", "1b4f6c2e8d3a4f5b9c7e2a1d0e3f4b5c", PLACEHOLDER_ID,
                                 APP_ID + "x", " " + APP_ID])
def test_an_app_id_that_is_not_a_guid_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match=r"must be the bot's Microsoft App ID, a GUID"):
        build_package(bad, tmp_path / "p.zip")
    assert not (tmp_path / "p.zip").exists()
