"""Requests shaped and signed exactly as Slack sends them to an app's ``/slack/events``.

Each builder returns ``(body_bytes, headers)`` ready to POST: slash commands as a form,
interactivity as a form with one ``payload=<json>`` field, events as JSON. The signature is
Slack's v0 HMAC-SHA256 made by ``slack_sdk.signature.SignatureVerifier``. Pass
``signing_secret="wrong"`` or ``timestamp=time.time() - 600`` to build requests an app must
refuse with 401.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
TEAM_ID = "T1"
API_APP_ID = "AUNMEET"
BOT_USER_ID = "UBOT"


def sign(body: bytes, content_type: str, *, signing_secret: str = SIGNING_SECRET,
         timestamp: float | None = None, retry_num: int | None = None,
         retry_reason: str = "http_timeout") -> tuple[bytes, dict[str, str]]:
    """Add Slack's signature headers (and the retry headers Slack adds to a re-sent event)."""
    ts = str(int(time.time() if timestamp is None else timestamp))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return body, headers


def _interactive(payload: dict, **signing: Any) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return sign(body, "application/x-www-form-urlencoded", **signing)


def _user(user_id: str, team_id: str) -> dict:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def slash_command(command: str, text: str = "", *, user_id: str = "U1", channel_id: str = "C1",
                  trigger_id: str = "1.2.trigger", team_id: str = TEAM_ID, channel_name: str = "general",
                  response_url: str = "https://hooks.slack.invalid/commands/T1/1/x",
                  **signing: Any) -> tuple[bytes, dict[str, str]]:
    form = {
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": "test",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return sign(urlencode(form).encode(), "application/x-www-form-urlencoded", **signing)


def block_action(action_id: str, value: str | None = None, *, user_id: str = "U1", block_id: str = "b1",
                 channel_id: str | None = "C1", message: dict | None = None, view: dict | None = None,
                 trigger_id: str = "1.2.trigger", team_id: str = TEAM_ID, action: dict | None = None,
                 **signing: Any) -> tuple[bytes, dict[str, str]]:
    """A button press (or, with ``action=``, any element's action) in a message or a view."""
    the_action = action or {"type": "button", "action_id": action_id, "block_id": block_id,
                            "value": value, "text": {"type": "plain_text", "text": "Button"}}
    the_action.setdefault("action_ts", f"{time.time():.6f}")
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": "test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [the_action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
        payload["view"] = view
    else:
        message = message or {"type": "message", "ts": "1700000000.000100", "user": BOT_USER_ID, "text": ""}
        payload["container"] = {"type": "message", "message_ts": message["ts"], "channel_id": channel_id,
                                "is_ephemeral": False}
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = message
        payload["response_url"] = "https://hooks.slack.invalid/actions/T1/1/x"
    return _interactive(payload, **signing)


def view_submission(view: dict, *, user_id: str = "U1", trigger_id: str = "1.2.trigger",
                    team_id: str = TEAM_ID, **signing: Any) -> tuple[bytes, dict[str, str]]:
    """Submit a modal; ``view`` carries ``callback_id``, ``private_metadata`` and ``state.values``."""
    full_view = {"id": "V1", "team_id": team_id, "type": "modal", "private_metadata": "", "callback_id": "",
                 "state": {"values": {}}, "hash": "1.1", "root_view_id": view.get("id", "V1"),
                 "app_id": API_APP_ID, "bot_id": "BBOT", **view}
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "test"},
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": trigger_id,
        "view": full_view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _interactive(payload, **signing)


def message_shortcut(callback_id: str, message: dict, *, user_id: str = "U1", channel_id: str = "C1",
                     trigger_id: str = "1.2.trigger", team_id: str = TEAM_ID,
                     **signing: Any) -> tuple[bytes, dict[str, str]]:
    """The "..." menu on ``message`` (needs at least ``ts`` and ``text``)."""
    payload = {
        "type": "message_action",
        "token": "verification-token-unused",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": "test"},
        "user": _user(user_id, team_id),
        "channel": {"id": channel_id, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message["ts"],
        "message": {"type": "message", "user": user_id, **message},
        "response_url": "https://hooks.slack.invalid/app/T1/1/x",
    }
    return _interactive(payload, **signing)


def event(event: dict, event_id: str = "Ev1", *, retry_num: int | None = None, team_id: str = TEAM_ID,
          **signing: Any) -> tuple[bytes, dict[str, str]]:
    """An Events API ``event_callback``; the same ``event_id`` with ``retry_num`` is a re-send."""
    envelope = {
        "token": "verification-token-unused",
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }
    return sign(json.dumps(envelope).encode(), "application/json", retry_num=retry_num, **signing)
