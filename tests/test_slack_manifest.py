"""The Slack app manifest is valid against Slack's official schema and says what the app needs."""

import copy
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/schemas/slack-manifest.schema.1.0.0.json").read_text())
MANIFEST = yaml.safe_load((ROOT / "manifest/slack/manifest.yaml").read_text())
VALIDATOR = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
COMMAND_SCHEMA = SCHEMA["definitions"]["app-manifests.v1.features.slash_commands"]["items"]["properties"]


def errors(manifest: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(manifest)]


def test_schema_is_well_formed():
    Draft7Validator.check_schema(SCHEMA)


def test_manifest_validates():
    assert MANIFEST["_metadata"]["major_version"] == 1
    assert errors(MANIFEST) == []


def test_slash_commands_are_described_within_slack_limits():
    commands = {c["command"]: c for c in MANIFEST["features"]["slash_commands"]}
    assert set(commands) == {"/share-insight", "/focus", "/meeting-check", "/one-thing", "/agreements", "/stuck",
                             "/unmeet", "/drivers-seat", "/programme"}
    for command in commands.values():
        assert 0 < len(command["description"].strip()) <= COMMAND_SCHEMA["description"]["maxLength"]
        assert len(command.get("usage_hint", "")) <= COMMAND_SCHEMA["usage_hint"]["maxLength"]
        assert command["url"] == "https://YOUR-HOST/slack/events"
        # `/drivers-seat share @coach` and `/programme remove @name` need the mention as `<@U…|name>`,
        # which only escaping sends
        assert command["should_escape"] is (command["command"] in ("/drivers-seat", "/programme"))


def test_least_privilege_scopes_and_events():
    scopes = MANIFEST["oauth_config"]["scopes"]
    assert "chat:write.public" not in scopes["bot"]
    assert sorted(scopes["user"]) == ["dnd:write", "users.profile:write"]
    assert MANIFEST["settings"]["socket_mode_enabled"] is False
    assert {"app_uninstalled", "tokens_revoked"} <= set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])


def test_the_code_asks_for_the_manifests_scopes_and_comes_back_to_its_redirect_url():
    """The manifest is where the scopes live, each with its reason; the copies the OAuth flows send to
    Slack must not drift from it."""
    from slack_app.focus import USER_SCOPES
    from slack_app.installs import BOT_SCOPES, OAUTH_REDIRECT_PATH

    scopes = MANIFEST["oauth_config"]["scopes"]
    assert sorted(scopes["bot"]) == sorted(BOT_SCOPES)
    assert sorted(scopes["user"]) == sorted(USER_SCOPES.split(","))
    assert MANIFEST["oauth_config"]["redirect_urls"] == [f"https://YOUR-HOST{OAUTH_REDIRECT_PATH}"]


def broken(change) -> dict:
    manifest = copy.deepcopy(MANIFEST)
    change(manifest)
    return manifest


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda m: m["features"]["slash_commands"][0].pop("description"), "features/slash_commands/0"),
        (lambda m: m["features"]["slash_commands"][1].update(url="ftp://YOUR-HOST/slack/events"),
         "features/slash_commands/1/url"),
        (lambda m: m["features"]["slash_commands"][2].update(command="meeting-check"),
         "features/slash_commands/2/command"),
        (lambda m: m["settings"]["interactivity"].update(request_url="YOUR-HOST/slack/events"),
         "settings/interactivity/request_url"),
        (lambda m: m["features"]["shortcuts"][0].update(name="Do we really need to meet?"),
         "features/shortcuts/0/name"),
        (lambda m: m["features"]["bot_user"].update(always_online="no"), "features/bot_user/always_online"),
    ],
)
def test_broken_manifest_is_rejected(change, where):
    found = errors(broken(change))
    assert found and all(e.startswith(where) for e in found), found


def test_the_manifests_shortcuts_are_the_ones_the_app_listens_for():
    from slack_app import meetings, stuck

    assert {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]} == {meetings.SHORTCUT, stuck.SHORTCUT}
    assert all(s["type"] == "message" for s in MANIFEST["features"]["shortcuts"])
