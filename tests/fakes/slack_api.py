"""A loopback fake of the Slack Web API for tests and benchmarks.

Point slack_sdk at it with ``AsyncWebClient(base_url=slack.base_url)``. It keeps a small seeded
world (users, channels, DMs), records every call, and enforces the Slack rules that bite in
production: rate limits answered with HTTP 429 + ``Retry-After``, Block Kit limits, single-use
``trigger_id``s that expire after 3 seconds, at most 3 stacked modals, user-token-only methods.

    async with FakeSlackApi(bot_token="xoxb-test") as slack:
        slack.add_user("U1", "ann", "Ann Peeters")
        slack.add_channel("C1", "team", members=["U1"])
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        await client.chat_postMessage(channel="U1", text="hi")
        assert slack.dms("U1")[0]["text"] == "hi"

Rate limits are token buckets (``Limit(per_second, burst)``). Defaults follow Slack's tiers
(Tier 2 = 20/min: ``Limit(20/60, 20)``); ``limits={"views.open": Limit(5, 5)}`` overrides a method,
``post_per_channel`` / ``post_per_workspace`` set chat.postMessage's special limits, and
``speedup=100`` runs every window (rate limits and trigger lifetime) 100x faster. ``Retry-After`` is
an integer (slack_sdk reads nothing else), so under a large speedup a client waits at least 1 s per
429: a benchmark that wants realistic-but-fast behaviour should pick limits in calls per second
directly, at speedup 1. ``floor_seconds(method, n)`` gives the least time the limits allow for n
calls, the bound a benchmark compares its wall time against. ``rate_limits=False`` disables them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from aiohttp import web

TRIGGER_LIFETIME_S = 3.0
MAX_VIEW_STACK = 3
MAX_VIEW_BYTES = 250_000
# Since 2025, apps not approved for the Slack Marketplace get conversations.history and
# conversations.replies at 1 call per minute and at most 15 messages per call.
NON_MARKETPLACE_HISTORY_LIMIT = 15

USER_TOKEN_ONLY = {"users.profile.set", "dnd.setSnooze", "dnd.endSnooze"}
NO_TOKEN_NEEDED = {"oauth.v2.access"}
# Arguments slack_sdk sends as JSON strings in form bodies (or as objects in JSON bodies).
JSON_ARGUMENTS = ("blocks", "view", "metadata", "profile", "files", "attachments")


@dataclass(frozen=True)
class Limit:
    """A token bucket: ``burst`` calls at once, refilled at ``per_second``."""

    per_second: float
    burst: int

    @classmethod
    def per_minute(cls, n: int) -> "Limit":
        return cls(n / 60, n)


TIER = {1: Limit.per_minute(1), 2: Limit.per_minute(20), 3: Limit.per_minute(50), 4: Limit.per_minute(100)}

METHOD_TIERS = {
    "auth.test": 4,
    "chat.update": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "pins.add": 2,
    "conversations.members": 4,
    "conversations.info": 3,
    "conversations.open": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "users.info": 4,
    "users.list": 2,
    "users.profile.set": 3,
    "users.profile.get": 4,
    "dnd.setSnooze": 2,
    "dnd.endSnooze": 2,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "oauth.v2.access": 4,
}


@dataclass
class Call:
    """One request as the fake received it; JSON-string arguments are already parsed."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str | None
    times: int


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class _Token:
    kind: str  # "bot" or "user"
    user_id: str
    team_id: str  # the workspace the token works in
    expires_at: float | None = None  # by the fake's clock; None: never (no token rotation)


@dataclass(frozen=True)
class _Team:
    id: str
    name: str
    bot_user_id: str
    bot_id: str


class SlackError(Exception):
    """An ``ok: false`` answer; ``extra`` goes into the JSON body beside the error."""

    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


class _RateLimited(Exception):
    def __init__(self, wait_s: float):
        super().__init__(wait_s)
        self.wait_s = wait_s


def block_kit_problems(payload: dict, surface: str) -> list[str]:
    """Slack's Block Kit and view limits, as Slack's own error messages (empty list: valid).

    ``surface`` is "message" (50 blocks) or "view" (100 blocks plus the modal's own limits).
    One table-driven walk so the limits can be read, and checked against platform-facts.md, at a
    glance.
    """
    problems: list[str] = []

    def too_long(value: Any, limit: int, where: str) -> None:
        if isinstance(value, dict):
            value = value.get("text")
        if isinstance(value, str) and len(value) > limit:
            problems.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}]")

    def too_many(items: Any, limit: int, where: str) -> None:
        if isinstance(items, list) and len(items) > limit:
            problems.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{where}]")

    text_limits = {
        "section": {"text": 3000},
        "header": {"text": 150},
        "markdown": {"text": 12000},
        "input": {"label": 2000, "hint": 2000},
        "button": {"text": 75, "value": 2000, "url": 3000},
        "option": {"text": 75, "value": 150, "description": 75},
        "field": {"text": 2000},
    }
    count_limits = {"fields": 10, "options": 100, "option_groups": 100}
    child_kind = {"options": "option", "fields": "field"}

    def walk(node: Any, where: str, kind: str | None = None) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}/{i}", kind)
            return
        if not isinstance(node, dict):
            return
        kind = kind or node.get("type")
        for key in ("block_id", "action_id"):
            too_long(node.get(key), 255, f"{where}/{key}")
        for key, limit in text_limits.get(kind, {}).items():
            too_long(node.get(key), limit, f"{where}/{key}")
        for key, child in node.items():
            if key in count_limits:
                too_many(child, count_limits[key], f"{where}/{key}")
            if isinstance(child, (dict, list)):
                walk(child, f"{where}/{key}", child_kind.get(key))

    if surface == "view":
        for key in ("title", "submit", "close"):
            too_long(payload.get(key), 24, f"/view/{key}/text")
        too_long(payload.get("private_metadata"), 3000, "/view/private_metadata")
        for key in ("callback_id", "external_id"):
            too_long(payload.get(key), 255, f"/view/{key}")
        where, max_blocks = "/view/blocks", 100
    else:
        where, max_blocks = "/blocks", 50
    blocks = payload.get("blocks") or []
    too_many(blocks, max_blocks, where)
    walk(blocks, where)
    return problems


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, offset = base64.b64decode(cursor).decode().split(":")
        assert kind == "offset"
        return int(offset)
    except Exception as exc:
        raise SlackError("invalid_cursor") from exc


def _page(items: list, params: dict, default_limit: int = 100) -> tuple[list, dict]:
    """Slice ``items`` like Slack's cursor paging; returns (page, response_metadata)."""
    start = _decode_cursor(params.get("cursor"))
    limit = int(params.get("limit") or default_limit) or default_limit
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, {"next_cursor": _encode_cursor(start + limit) if more else ""}


class FakeSlackApi:
    """The fake Slack Web API server: one app, installed in one workspace (the constructor's) or, with
    ``add_team``, in several. A token works only in its own workspace: another workspace's channel or
    user is not found with it, as in Slack."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        *,
        team_id: str = "T1",
        team_name: str = "Test Team",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        app_id: str = "AUNMEET",
        client_id: str = "111.222",
        client_secret: str = "client-secret",
        rate_limits: bool = True,
        limits: dict[str, Limit] | None = None,
        post_per_channel: Limit = Limit(1.0, 3),
        post_per_workspace: Limit = Limit(5.0, 20),
        marketplace_app: bool = False,
        speedup: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        rotation: bool = False,
        expires_in: int = 43200,
        oauth_delay: float = 0.0,
    ):
        self.team_id, self.team_name = team_id, team_name
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.client_id, self.client_secret = client_id, client_secret
        self.rate_limits, self.speedup, self.clock = rate_limits, speedup, clock
        self.marketplace_app = marketplace_app
        self.rotation, self.expires_in, self.oauth_delay = rotation, expires_in, oauth_delay
        self.limits = {m: TIER[t] for m, t in METHOD_TIERS.items()}
        if not marketplace_app:
            self.limits["conversations.history"] = self.limits["conversations.replies"] = TIER[1]
        self.limits.update(limits or {})
        self.post_per_channel, self.post_per_workspace = post_per_channel, post_per_workspace

        self.calls: list[Call] = []
        self.ephemerals: list[dict] = []
        self.pins: list[tuple[str, str]] = []  # (channel, ts) pinned with pins.add
        self.views: dict[str, dict] = {}
        self.home_views: dict[str, dict] = {}
        self.files: dict[str, UploadedFile] = {}
        self.responses: list[dict] = []  # what the app sent to a `response_url` (see ``response_url``)
        self.dnd_until: dict[str, float] = {}

        self._teams: dict[str, _Team] = {team_id: _Team(team_id, team_name, bot_user_id, bot_id)}
        self._tokens: dict[str, _Token] = {bot_token: _Token("bot", bot_user_id, team_id)}
        self._users: dict[str, dict] = {}
        self._channels: dict[str, dict] = {}
        self._messages: dict[str, list[dict]] = defaultdict(list)
        self._triggers: dict[str, tuple[str, float]] = {}
        self._used_triggers: set[str] = set()
        self._modal_stacks: dict[str, list[str]] = {}
        self._oauth_codes: dict[str, dict] = {}
        self._refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (the token it renews, scope)
        self.renewed: list[str] = []  # the tokens grant_type=refresh_token issued, oldest first
        self._faults: dict[str, list[_Fault]] = defaultdict(list)
        self._buckets: dict[str, _Bucket] = {}
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        self.add_user(bot_user_id, "unmeet", "unmeet", is_bot=True)
        self._handlers: dict[str, Callable] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "pins.add": self._pins_add,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.profile.set": self._users_profile_set,
            "users.profile.get": self._users_profile_get,
            "dnd.setSnooze": self._dnd_set_snooze,
            "dnd.endSnooze": self._dnd_end_snooze,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
        }

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}api/"

    async def start(self) -> None:
        app = web.Application(client_max_size=5 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/respond/{path:.*}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeSlackApi":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ---- seeding the world -----------------------------------------------------------------

    def add_user(
        self,
        id: str,
        name: str,
        real_name: str,
        tz: str = "Europe/Brussels",
        locale: str = "en-US",
        is_bot: bool = False,
        deleted: bool = False,
        team_id: str | None = None,
    ) -> dict:
        user = {
            "id": id,
            "team_id": team_id or self.team_id,
            "name": name,
            "real_name": real_name,
            "deleted": deleted,
            "is_bot": is_bot,
            "tz": tz,
            "locale": locale,
            "profile": {"real_name": real_name, "display_name": name, "status_text": "",
                        "status_emoji": "", "status_expiration": 0},
        }
        self._users[id] = user
        return user

    def add_channel(self, id: str, name: str, members: list[str] = (), *, bot_is_member: bool = True,
                    is_private: bool = False, team_id: str | None = None) -> dict:
        """A channel; the bot is a member by default (the app has no chat:write.public)."""
        team = self._teams[team_id or self.team_id]
        member_ids = list(members) + ([team.bot_user_id] if bot_is_member else [])
        channel = {"id": id, "name": name, "is_channel": not is_private, "is_group": is_private,
                   "is_im": False, "is_private": is_private, "members": member_ids, "team_id": team.id}
        self._channels[id] = channel
        return channel

    def add_team(self, team_id: str, team_name: str, *, bot_user_id: str, bot_id: str) -> None:
        """Another workspace the app can be installed in; its bot token exists once an install code
        (``add_install_code``) is exchanged."""
        self._teams[team_id] = _Team(team_id, team_name, bot_user_id, bot_id)
        self.add_user(bot_user_id, "unmeet", "unmeet", is_bot=True, team_id=team_id)

    def add_user_token(self, token: str, user_id: str) -> None:
        self._tokens[token] = _Token("user", user_id, self._users.get(user_id, {}).get("team_id", self.team_id))

    def expire_token(self, token: str) -> None:
        """From now on Slack answers ``token`` with ``token_expired`` (as at the end of its lifetime)."""
        self._tokens[token].expires_at = self.clock()

    def refreshes(self) -> list[Call]:
        """The oauth.v2.access calls that renewed a token (``grant_type=refresh_token``)."""
        return [c for c in self.calls_to("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"]

    def add_install_code(self, code: str, team_id: str, installer_id: str, bot_token: str, scope: str) -> None:
        """A one-time code that oauth.v2.access exchanges for the bot token of an install into
        ``team_id`` ("Add to Slack"), granting the bot scopes the app asked for in ``scope``."""
        self._oauth_codes[code] = {"team_id": team_id, "user_id": installer_id, "bot_token": bot_token,
                                   "scope": scope}

    def team_of_token(self, token: str | None) -> str | None:
        auth = self._tokens.get(token or "")
        return auth.team_id if auth else None

    def add_oauth_code(self, code: str, user_id: str, user_token: str,
                       user_scope: str = "users.profile:write,dnd:write") -> None:
        """A one-time code that oauth.v2.access exchanges for ``user_token`` (user-OAuth flow)."""
        self._oauth_codes[code] = {"user_id": user_id, "token": user_token, "scope": user_scope}

    def response_url(self, name: str = "command") -> str:
        """A `response_url` for a request payload; what the app sends there lands in ``responses``."""
        return f"{self.root_url}respond/{name}"

    def new_trigger_id(self, user_id: str = "U1") -> str:
        """Mint a trigger_id as Slack puts in an interaction payload: single use, 3 s to live."""
        trigger_id = f"{next(self._ids)}.{int(time.time())}.{abs(hash((user_id, self.clock()))):x}"
        self._triggers[trigger_id] = (user_id, self.clock() + TRIGGER_LIFETIME_S / self.speedup)
        return trigger_id

    def fail_next(self, method: str, status: int = 429, retry_after: int | None = 30,
                  error: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with a fault instead of running it.

        With ``error`` the answer is HTTP 200 ``{"ok": false, "error": error}``; otherwise it is
        HTTP ``status`` (with ``Retry-After`` when given).
        """
        self._faults[method].append(_Fault(status, retry_after, error, times))

    def close_views(self, user_id: str) -> None:
        """The user closed their modal stack (as pressing Cancel or submitting the root does)."""
        self._modal_stacks.pop(user_id, None)

    # ---- reading what happened -------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[dict]:
        """The channel's messages (including thread replies) oldest first, as they are now."""
        return list(self._messages.get(self._resolve_channel_id(channel), []))

    def dms(self, user_id: str) -> list[dict]:
        return self.messages(f"D{user_id}")

    def open_views(self, user_id: str) -> list[dict]:
        """The user's modal stack, root first."""
        return [self.views[v] for v in self._modal_stacks.get(user_id, [])]

    def profile(self, user_id: str) -> dict:
        return self._users[user_id]["profile"]

    def floor_seconds(self, method: str, n_calls: int, *, channels: int = 1) -> float:
        """Least wall time the rate limits allow for ``n_calls`` (spread over ``channels``)."""
        if not self.rate_limits:
            return 0.0
        if method == "chat.postMessage":
            per_channel = math.ceil(n_calls / channels)
            bounds = [(self.post_per_channel, per_channel), (self.post_per_workspace, n_calls)]
        else:
            bounds = [(self.limits.get(method, TIER[3]), n_calls)]
        return max(max(0, n - lim.burst) / (lim.per_second * self.speedup) for lim, n in bounds)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after each call); return its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := predicate()):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; calls: "
                                   f"{[c.method for c in self.calls[-20:]]}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass
        return result

    # ---- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._read_params(request)
        token = self._token_from(request, params)
        call = Call(method, params, token, self.clock())
        self.calls.append(call)
        if method == "oauth.v2.access" and self.oauth_delay:
            await asyncio.sleep(self.oauth_delay)
        try:
            response = self._answer(method, params, token, request)
        finally:
            self._changed.set()
            self._changed = asyncio.Event()
        call.status = response.status
        if response.status == 200:
            body = json.loads(response.body)
            call.error = None if body.get("ok") else body.get("error")
        return response

    def _answer(self, method: str, params: dict, token: str | None, request: web.Request) -> web.Response:
        fault = self._take_fault(method)
        if fault is not None:
            if fault.error is not None:
                return web.json_response({"ok": False, "error": fault.error})
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            return web.Response(status=fault.status, text="fault injected", headers=headers)
        handler = self._handlers.get(method)
        try:
            if handler is None:
                raise SlackError("unknown_method")
            if any(isinstance(params.get(key), str) and params[key] for key in JSON_ARGUMENTS):
                raise SlackError("invalid_json")
            auth = None
            if method not in NO_TOKEN_NEEDED:
                auth = self._authenticate(method, token)
                self._check_team(params, auth)
            if self.rate_limits:
                self._check_rate(method, params)
            if method == "oauth.v2.access":
                return web.json_response(handler(params, request.headers.get("Authorization")))
            return web.json_response({"ok": True, **handler(params, auth)})
        except SlackError as e:
            return web.json_response({"ok": False, "error": e.error, **e.extra})
        except _RateLimited as e:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(max(1, math.ceil(e.wait_s)))})

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json":
                params.update(json.loads(raw or b"{}"))
            elif request.content_type == "multipart/form-data":
                params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
            else:
                params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for key in JSON_ARGUMENTS:
            if isinstance(params.get(key), str) and params[key]:
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass  # left as a string: _answer refuses it with invalid_json
        return params

    @staticmethod
    def _token_from(request: web.Request, params: dict) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[len("Bearer "):]
        return params.pop("token", None)

    def _authenticate(self, method: str, token: str | None) -> _Token:
        if not token:
            raise SlackError("not_authed")
        auth = self._tokens.get(token)
        if auth is None:
            raise SlackError("invalid_auth")
        if auth.expires_at is not None and self.clock() >= auth.expires_at:
            raise SlackError("token_expired")
        if method in USER_TOKEN_ONLY and auth.kind != "user":
            raise SlackError("not_allowed_token_type")
        return auth

    def _check_team(self, params: dict, auth: _Token) -> None:
        """A token sees only its own workspace: another workspace's channel or user is not found."""
        for key in ("channel", "channel_id"):
            value = params.get(key)
            if isinstance(value, str) and self._team_of_channel(value) not in (None, auth.team_id):
                raise SlackError("channel_not_found")
        for key in ("user", "user_id", "users"):
            value = params.get(key)
            for user_id in value.split(",") if isinstance(value, str) else ():
                if self._users.get(user_id, {}).get("team_id", auth.team_id) != auth.team_id:
                    raise SlackError("user_not_found")

    def _team_of_channel(self, channel_id: str) -> str | None:
        channel_id = self._resolve_channel_id(channel_id)
        if channel_id in self._channels:
            return self._channels[channel_id]["team_id"]
        user = self._users.get(channel_id[1:]) if channel_id.startswith("D") else None
        return user["team_id"] if user else None

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def _check_rate(self, method: str, params: dict) -> None:
        if method == "chat.postMessage":
            channel = self._resolve_channel_id(str(params.get("channel", "")))
            checks = [(f"post:{channel}", self.post_per_channel), ("post:workspace", self.post_per_workspace)]
        else:
            checks = [(method, self.limits.get(method, TIER[3]))]
        now = self.clock()
        buckets = []
        for key, limit in checks:
            rate = limit.per_second * self.speedup
            bucket = self._buckets.setdefault(key, _Bucket(limit.burst, now))
            bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens < 1:
                raise _RateLimited((1 - bucket.tokens) / rate)
            buckets.append(bucket)
        for bucket in buckets:  # take only once every limit allows the call
            bucket.tokens -= 1

    # ---- helpers ---------------------------------------------------------------------------

    def _new_ts(self) -> str:
        us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _resolve_channel_id(self, channel: str) -> str:
        """A user id names that user's DM with the bot, as chat.postMessage allows."""
        if channel in self._users:
            return f"D{channel}"
        return channel

    def _channel(self, channel_id: str) -> dict:
        channel_id = self._resolve_channel_id(channel_id)
        if channel_id in self._channels:
            return self._channels[channel_id]
        user = self._users.get(channel_id[1:]) if channel_id.startswith("D") else None
        if user is None or user["is_bot"]:
            raise SlackError("channel_not_found")
        return {"id": channel_id, "is_im": True, "is_channel": False, "is_group": False,
                "is_private": True, "user": user["id"], "team_id": user["team_id"],
                "members": [user["id"], self._teams[user["team_id"]].bot_user_id]}

    def _user(self, user_id: Any) -> dict:
        if user_id not in self._users:
            raise SlackError("user_not_found")
        return self._users[user_id]

    def _message(self, channel_id: str, ts: Any) -> dict:
        for message in self._messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    def _check_blocks(self, params: dict) -> None:
        blocks = params.get("blocks")
        if blocks is None:
            return
        problems = block_kit_problems({"blocks": blocks}, "message")
        if problems:
            raise SlackError("invalid_blocks", errors=problems, response_metadata={"messages": problems})

    def _check_view(self, view: Any) -> dict:
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] invalid view"]})
        if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        problems = block_kit_problems(view, "view")
        if problems:
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        return view

    def _exchange_trigger(self, params: dict, auth: _Token) -> str:
        """Use up a trigger_id; returns the user it was minted for (in the token's workspace)."""
        trigger_id = params.get("trigger_id")
        if trigger_id in self._used_triggers:
            raise SlackError("expired_trigger_id")
        if trigger_id not in self._triggers:
            raise SlackError("invalid_trigger_id")
        user_id, expires_at = self._triggers.pop(trigger_id)
        self._used_triggers.add(trigger_id)
        if self._users.get(user_id, {}).get("team_id", auth.team_id) != auth.team_id:
            raise SlackError("invalid_trigger_id")
        if self.clock() > expires_at:
            raise SlackError("expired_trigger_id")
        return user_id

    def _store_view(self, view: dict, user_id: str, view_id: str | None = None,
                    root_view_id: str | None = None, previous_view_id: str | None = None) -> dict:
        view_id = view_id or self._new_id("V")
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "type": view["type"],
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "root_view_id": root_view_id or view_id,
            "previous_view_id": previous_view_id,
            "user_id": user_id,
        }
        self.views[view_id] = stored
        return stored

    @staticmethod
    def _public_view(view: dict) -> dict:
        return {k: v for k, v in view.items() if k != "user_id"}

    # ---- methods ---------------------------------------------------------------------------

    def _auth_test(self, p: dict, auth: _Token) -> dict:
        user = self._users.get(auth.user_id, {})
        team = self._teams[auth.team_id]
        answer = {"url": "https://fake.slack.com/", "team": team.name, "user": user.get("name"),
                  "team_id": team.id, "user_id": auth.user_id, "is_enterprise_install": False}
        if auth.kind == "bot":
            answer["bot_id"] = team.bot_id
        return answer

    def _chat_post_message(self, p: dict, auth: _Token) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        if auth.user_id not in channel["members"]:
            raise SlackError("not_in_channel")
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            raise SlackError("no_text")
        self._check_blocks(p)
        message = {"type": "message", "ts": self._new_ts(), "user": auth.user_id, "text": p.get("text", ""),
                   "team": auth.team_id}
        if auth.kind == "bot":
            message.update(bot_id=self._teams[auth.team_id].bot_id, app_id=self.app_id)
        for key in ("blocks", "metadata"):
            if p.get(key):
                message[key] = p[key]
        thread_ts = p.get("thread_ts")
        if thread_ts:
            parent = self._message(channel["id"], thread_ts)
            parent.setdefault("thread_ts", parent["ts"])
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            message["thread_ts"] = thread_ts
        self._messages[channel["id"]].append(message)
        return {"channel": channel["id"], "ts": message["ts"], "message": message}

    def _chat_update(self, p: dict, auth: _Token) -> dict:
        channel_id = self._resolve_channel_id(str(p.get("channel", "")))
        message = self._message(channel_id, p.get("ts"))
        self._check_blocks(p)
        for key in ("text", "blocks", "metadata"):
            if key in p:
                message[key] = p[key]
        message["edited"] = {"user": auth.user_id, "ts": self._new_ts()}
        return {"channel": channel_id, "ts": message["ts"], "text": message.get("text", ""),
                "message": message}

    def _chat_post_ephemeral(self, p: dict, auth: _Token) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        if p.get("user") not in channel["members"]:
            raise SlackError("user_not_in_channel")
        if not (p.get("text") or p.get("blocks")):
            raise SlackError("no_text")
        self._check_blocks(p)
        ephemeral = {"channel": channel["id"], "user": p["user"], "text": p.get("text", ""),
                     "blocks": p.get("blocks"), "thread_ts": p.get("thread_ts"), "message_ts": self._new_ts()}
        self.ephemerals.append(ephemeral)
        return {"message_ts": ephemeral["message_ts"]}

    def _pins_add(self, p: dict, auth: _Token) -> dict:
        """Like Slack: the message must exist; pinning it twice is `already_pinned`."""
        channel_id = self._resolve_channel_id(str(p.get("channel", "")))
        message = self._message(channel_id, p.get("timestamp"))
        if (channel_id, message["ts"]) in self.pins:
            raise SlackError("already_pinned")
        self.pins.append((channel_id, message["ts"]))
        return {}

    def _chat_get_permalink(self, p: dict, auth: _Token) -> dict:
        channel_id = self._resolve_channel_id(str(p.get("channel", "")))
        message = self._message(channel_id, p.get("message_ts"))
        link = f"https://fake.slack.com/archives/{channel_id}/p{message['ts'].replace('.', '')}"
        return {"channel": channel_id, "permalink": link}

    def _conversations_members(self, p: dict, auth: _Token) -> dict:
        members, meta = _page(self._channel(str(p.get("channel", "")))["members"], p)
        return {"members": members, "response_metadata": meta}

    def _conversations_info(self, p: dict, auth: _Token) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        info = {k: v for k, v in channel.items() if k != "members"}
        info["is_member"] = auth.user_id in channel["members"]
        if _flag(p.get("include_num_members")):
            info["num_members"] = len(channel["members"])
        return {"channel": info}

    def _conversations_open(self, p: dict, auth: _Token) -> dict:
        if p.get("channel"):
            return {"channel": {"id": self._channel(str(p["channel"]))["id"]}}
        users = [u for u in str(p.get("users", "")).split(",") if u]
        if len(users) != 1:
            raise SlackError("not_enough_users" if not users else "invalid_arguments")
        user = self._user(users[0])
        if user["deleted"]:
            raise SlackError("user_disabled")
        if user["is_bot"]:
            raise SlackError("cannot_dm_bot")
        return {"channel": {"id": f"D{user['id']}"}}

    def _history_limit(self, p: dict) -> dict:
        if self.marketplace_app:
            return p
        limit = int(p.get("limit") or NON_MARKETPLACE_HISTORY_LIMIT)
        return {**p, "limit": min(limit, NON_MARKETPLACE_HISTORY_LIMIT)}

    def _shown(self, message: dict, p: dict) -> dict:
        if _flag(p.get("include_all_metadata")):
            return message
        return {k: v for k, v in message.items() if k != "metadata"}

    def _conversations_history(self, p: dict, auth: _Token) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        if auth.user_id not in channel["members"]:
            raise SlackError("not_in_channel")
        oldest, latest = float(p.get("oldest") or 0), float(p.get("latest") or math.inf)
        top_level = [m for m in reversed(self._messages.get(channel["id"], []))
                     if m.get("thread_ts", m["ts"]) == m["ts"] and oldest < float(m["ts"]) < latest]
        page, meta = _page(top_level, self._history_limit(p))
        return {"messages": [self._shown(m, p) for m in page], "has_more": bool(meta["next_cursor"]),
                "response_metadata": meta}

    def _conversations_replies(self, p: dict, auth: _Token) -> dict:
        channel = self._channel(str(p.get("channel", "")))
        if auth.user_id not in channel["members"]:
            raise SlackError("not_in_channel")
        parent = self._message(channel["id"], p.get("ts"))
        thread_ts = parent.get("thread_ts", parent["ts"])
        thread = [m for m in self._messages[channel["id"]] if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]
        page, meta = _page(thread, self._history_limit(p))
        return {"messages": [self._shown(m, p) for m in page], "has_more": bool(meta["next_cursor"]),
                "response_metadata": meta}

    def _user_view(self, user: dict, include_locale: bool) -> dict:
        shown = {k: v for k, v in user.items() if k != "locale"}
        offset = datetime.now(ZoneInfo(user["tz"])).utcoffset()
        shown["tz_offset"] = int(offset.total_seconds()) if offset else 0
        if include_locale:
            shown["locale"] = user["locale"]
        return shown

    def _users_info(self, p: dict, auth: _Token) -> dict:
        return {"user": self._user_view(self._user(p.get("user")), _flag(p.get("include_locale")))}

    def _users_list(self, p: dict, auth: _Token) -> dict:
        members, meta = _page(list(self._users.values()), p, default_limit=200)
        include_locale = _flag(p.get("include_locale"))
        return {"members": [self._user_view(u, include_locale) for u in members], "response_metadata": meta}

    def _users_profile_set(self, p: dict, auth: _Token) -> dict:
        if p.get("user", auth.user_id) != auth.user_id:
            raise SlackError("cannot_update_admin_user")
        changes = p.get("profile") or {}
        if "name" in p:
            changes = {p["name"]: p.get("value", "")}
        if not isinstance(changes, dict) or not changes:
            raise SlackError("invalid_profile")
        profile = self._user(auth.user_id)["profile"]
        profile.update(changes)
        return {"profile": profile}

    def _users_profile_get(self, p: dict, auth: _Token) -> dict:
        return {"profile": self._user(p.get("user") or auth.user_id)["profile"]}

    def _dnd_set_snooze(self, p: dict, auth: _Token) -> dict:
        minutes = int(p.get("num_minutes") or 0)
        if minutes <= 0:
            raise SlackError("invalid_arguments")
        end = int(time.time()) + minutes * 60
        self.dnd_until[auth.user_id] = end
        return {"snooze_enabled": True, "snooze_endtime": end, "snooze_remaining": minutes * 60}

    def _dnd_end_snooze(self, p: dict, auth: _Token) -> dict:
        if self.dnd_until.pop(auth.user_id, None) is None:
            raise SlackError("snooze_not_active")
        return {"dnd_enabled": True, "snooze_enabled": False}

    def _views_open(self, p: dict, auth: _Token) -> dict:
        view = self._check_view(p.get("view"))
        user_id = self._exchange_trigger(p, auth)
        stored = self._store_view(view, user_id)
        self._modal_stacks[user_id] = [stored["id"]]
        return {"view": self._public_view(stored)}

    def _views_push(self, p: dict, auth: _Token) -> dict:
        view = self._check_view(p.get("view"))
        user_id = self._exchange_trigger(p, auth)
        stack = self._modal_stacks.get(user_id)
        if not stack:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["no open view to push onto"]})
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        stored = self._store_view(view, user_id, root_view_id=stack[0], previous_view_id=stack[-1])
        stack.append(stored["id"])
        return {"view": self._public_view(stored)}

    def _views_update(self, p: dict, auth: _Token) -> dict:
        view = self._check_view(p.get("view"))
        if p.get("view_id"):
            old = self.views.get(p["view_id"])
        else:
            old = next((v for v in self.views.values()
                        if p.get("external_id") and v["external_id"] == p["external_id"]), None)
        if old is None:
            raise SlackError("not_found")
        if p.get("hash") and p["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view(view, old["user_id"], view_id=old["id"], root_view_id=old["root_view_id"],
                                  previous_view_id=old["previous_view_id"])
        return {"view": self._public_view(stored)}

    def _views_publish(self, p: dict, auth: _Token) -> dict:
        view = self._check_view(p.get("view"))
        if view["type"] != "home":
            raise SlackError("invalid_arguments", response_metadata={"messages": ["views.publish takes a home view"]})
        user = self._user(p.get("user_id"))
        old = self.home_views.get(user["id"])
        if old and p.get("hash") and p["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view(view, user["id"], view_id=old["id"] if old else None)
        self.home_views[user["id"]] = stored
        return {"view": self._public_view(stored)}

    def _files_get_upload_url(self, p: dict, auth: _Token) -> dict:
        if not p.get("filename") or not p.get("length"):
            raise SlackError("invalid_arguments")
        file = UploadedFile(self._new_id("F"), p["filename"], int(p["length"]))
        self.files[file.id] = file
        return {"upload_url": f"{self.root_url}upload/v1/{file.id}", "file_id": file.id}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        self._changed.set()
        self._changed = asyncio.Event()
        return web.Response(text="ok")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404, text="unknown upload url")
        if request.content_type == "multipart/form-data":
            part = await (await request.multipart()).next()
            content = await part.read()
        else:
            content = await request.read()
        file.content = bytes(content)
        self._changed.set()
        self._changed = asyncio.Event()
        return web.Response(text=f"OK - {len(content)}")

    def _files_complete_upload(self, p: dict, auth: _Token) -> dict:
        entries = p.get("files") or []
        files = [self.files.get(entry.get("id")) for entry in entries]
        if not files or any(f is None or f.content is None for f in files):
            raise SlackError("file_not_found")
        channel_id = p.get("channel_id") or (p.get("channels") or "").split(",")[0] or None
        if channel_id:
            channel = self._channel(channel_id)
            if auth.user_id not in channel["members"]:
                raise SlackError("not_in_channel")
            channel_id = channel["id"]
        shared = []
        for entry, file in zip(entries, files):
            file.title = entry.get("title") or file.filename
            file.channel, file.thread_ts = channel_id, p.get("thread_ts")
            file.initial_comment = p.get("initial_comment")
            shared.append({"id": file.id, "name": file.filename, "title": file.title, "size": len(file.content)})
        if channel_id:
            self._messages[channel_id].append({"type": "message", "ts": self._new_ts(), "user": auth.user_id,
                                               "text": p.get("initial_comment") or "", "files": shared,
                                               **({"thread_ts": p["thread_ts"]} if p.get("thread_ts") else {})})
        return {"files": shared}

    def _oauth_v2_access(self, p: dict, authorization: str | None) -> dict:
        client_id, client_secret = p.get("client_id"), p.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        if p.get("grant_type") == "refresh_token":
            return self._refresh(p)
        grant = self._oauth_codes.pop(p.get("code"), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        if "bot_token" in grant:
            team = self._teams[grant["team_id"]]
            self._tokens[grant["bot_token"]] = _Token("bot", team.bot_user_id, team.id)
            return {"ok": True, "app_id": self.app_id, "access_token": grant["bot_token"], "token_type": "bot",
                    "scope": grant["scope"], "bot_user_id": team.bot_user_id,
                    "authed_user": {"id": grant["user_id"]}, "team": {"id": team.id, "name": team.name},
                    "enterprise": None, "is_enterprise_install": False,
                    **self._rotating(grant["bot_token"], grant["scope"])}
        self.add_user_token(grant["token"], grant["user_id"])
        team = self._teams[self._tokens[grant["token"]].team_id]
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": grant["user_id"], "scope": grant["scope"], "access_token": grant["token"],
                            "token_type": "user", **self._rotating(grant["token"], grant["scope"])},
            "team": {"id": team.id, "name": team.name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _rotating(self, token: str, scope: str) -> dict:
        """With token rotation: ``token`` expires, and the answer carries its refresh token and lifetime."""
        if not self.rotation:
            return {}
        self._tokens[token].expires_at = self.clock() + self.expires_in / self.speedup
        refresh_token = f"xoxe-1-{self._new_id('R')}"
        self._refresh_tokens[refresh_token] = (token, scope)
        return {"refresh_token": refresh_token, "expires_in": self.expires_in}

    def _refresh(self, p: dict) -> dict:
        """``grant_type=refresh_token``: a new token like the old one; the refresh token is used up."""
        if not self.rotation:
            return {"ok": False, "error": "token_rotation_not_enabled"}
        renewed = self._refresh_tokens.pop(str(p.get("refresh_token")), None)
        if renewed is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        old, scope = self._tokens[renewed[0]], renewed[1]
        token = f"xoxe.xox{'b' if old.kind == 'bot' else 'p'}-1-{self._new_id('T')}"
        self._tokens[token] = _Token(old.kind, old.user_id, old.team_id)
        self.renewed.append(token)
        team = self._teams[old.team_id]
        answer = {"ok": True, "app_id": self.app_id, "access_token": token, "token_type": old.kind, "scope": scope,
                  "team": {"id": team.id, "name": team.name}, "enterprise": None, "is_enterprise_install": False}
        if old.kind == "bot":
            answer["bot_user_id"] = team.bot_user_id
        else:
            answer["user_id"] = old.user_id
        return {**answer, **self._rotating(token, scope)}
