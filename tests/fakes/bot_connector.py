"""A loopback fake of the Bot Connector service that Teams bots call back into.

Inbound activities carry a `serviceUrl`; botbuilder's ConnectorClient sends every reply,
proactive message, update and roster lookup to that URL. Pointing `serviceUrl` at this server
lets tests run the real botbuilder stack over real HTTP and see exactly what the bot sent,
with the Teams rules that bite in production: per-thread and per-tenant rate limits (429 with
`Retry-After`), blocked users (403 `MessageWritesBlocked`), transient 412/502/503/504 answers,
and rosters that only come in pages. `hold` keeps the answer to a request that took effect (a message
that arrived) from the bot, as when the bot dies mid-send.

    async with FakeBotConnector() as bc:
        bc.add_team("19:team@thread.tacv2", members=[{"name": "Ann"}], channels=[...])
        ... post an activity with serviceUrl=bc.service_url to the bot ...
        await bc.wait_for(lambda: bc.activities(conversation_id))

botbuilder (msrest) percent-encodes path parameters with no safe characters, so ids such as
`19:abc@thread.tacv2;messageid=1700000000001` arrive encoded; the routes accept anything but
`/` in an id and aiohttp hands the handlers the decoded value.
"""

import asyncio
import base64
import collections
import itertools
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

DEFAULT_TENANT_ID = "72f988bf-0000-4000-8000-00000000cafe"

# Per bot per conversation (thread): (requests, window seconds), from the Teams docs.
THREAD_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
# Per app per tenant, all operations together.
TENANT_LIMITS = ((50, 1.0),)

PATH_KINDS = (
    "create",        # POST /v3/conversations
    "send",          # POST /v3/conversations/{id}/activities
    "reply",         # POST /v3/conversations/{id}/activities/{activityId}
    "update",        # PUT  /v3/conversations/{id}/activities/{activityId}
    "delete",        # DELETE /v3/conversations/{id}/activities/{activityId}
    "members",       # GET  /v3/conversations/{id}/members
    "member",        # GET  /v3/conversations/{id}/members/{memberId}
    "pagedmembers",  # GET  /v3/conversations/{id}/pagedmembers
    "channels",      # GET  /v3/teams/{teamId}/conversations
    "team",          # GET  /v3/teams/{teamId}
)
RATE_LIMITED_KINDS = {"create", "send", "reply", "update"}

_BODY = web.RequestKey("json_body", object)

DEFAULT_CODES = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass
class RecordedRequest:
    """One request as the fake received it (path decoded) and what it answered."""

    method: str
    path: str
    kind: str
    query: dict[str, str]
    json: Any
    authorization: str | None
    status: int = 0


@dataclass
class _Failure:
    status: int
    code: str
    times: int
    retry_after: float | None = None


@dataclass
class _Team:
    id: str
    name: str
    aad_group_id: str
    tenant_id: str
    members: list[dict]
    channels: list[dict] = field(default_factory=list)


class FakeBotConnector:
    """Bot Connector REST API (`/v3/...`) on 127.0.0.1 with an ephemeral port.

    `speedup` divides every rate-limit window (and so every `Retry-After`) so tests that wait
    out a 429 take milliseconds; `Retry-After` is then a decimal number of seconds rather than
    the whole seconds Teams sends. `clock` (seconds, monotonic) lets a test step time itself
    instead of racing a busy machine. `rate_limits=False` turns the limits off.
    """

    def __init__(
        self,
        *,
        rate_limits: bool = True,
        speedup: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_limits = rate_limits
        self.speedup = speedup
        self._clock = clock
        self.requests: list[RecordedRequest] = []
        self.created_conversations: list[dict] = []
        self._activities: dict[str, list[dict]] = collections.defaultdict(list)
        self._teams: dict[str, _Team] = {}
        self._chats: dict[str, list[dict]] = {}
        self._conversation_tenant: dict[str, str] = {}
        self._member_index: dict[str, dict] = {}
        self._blocked: dict[str, _Failure] = {}
        self._create_failures: dict[str, _Failure] = {}
        self._next_failures: dict[str, collections.deque[_Failure]] = collections.defaultdict(
            collections.deque
        )
        self._hits: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._holds: list[tuple[str, Callable[[RecordedRequest], bool]]] = []
        self._released = asyncio.Event()
        self.held: list[RecordedRequest] = []
        self._ids = itertools.count(1_700_000_000_001)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.service_url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> "FakeBotConnector":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        cid = "{conversation_id:[^/]+}"
        aid = "{activity_id:[^/]+}"
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post(f"/v3/conversations/{cid}/activities", self._send)
        app.router.add_post(f"/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put(f"/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_delete(f"/v3/conversations/{cid}/activities/{aid}", self._delete)
        app.router.add_get(f"/v3/conversations/{cid}/pagedmembers", self._paged_members)
        app.router.add_get(f"/v3/conversations/{cid}/members", self._members)
        app.router.add_get(f"/v3/conversations/{cid}/members/{{member_id:[^/]+}}", self._member)
        app.router.add_get("/v3/teams/{team_id:[^/]+}/conversations", self._channels)
        app.router.add_get("/v3/teams/{team_id:[^/]+}", self._team_details)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.service_url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        self.release()  # a held request would keep the server from stopping
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- seeding and configuration -----------------------------------------------------------

    def add_team(
        self,
        team_id: str,
        members: list[dict],
        channels: list[dict] | None = None,
        *,
        name: str = "Team",
        tenant_id: str = DEFAULT_TENANT_ID,
        aad_group_id: str | None = None,
    ) -> list[dict]:
        """Seed a team roster; returns the members completed the way Teams returns them.

        The General channel's id is the team id. Each channel is `{"id": ..., "name": ...}`.
        """
        full = [self._complete_member(m, tenant_id) for m in members]
        self._teams[team_id] = _Team(
            id=team_id,
            name=name,
            aad_group_id=aad_group_id or str(uuid.uuid4()),
            tenant_id=tenant_id,
            members=full,
            channels=[{"id": team_id, "name": None}, *(channels or [])],
        )
        for channel in self._teams[team_id].channels:
            self._conversation_tenant[channel["id"]] = tenant_id
        return full

    def add_chat(
        self, conversation_id: str, members: list[dict], *, tenant_id: str = DEFAULT_TENANT_ID
    ) -> list[dict]:
        """Seed a group chat (or any conversation) with a member list."""
        full = [self._complete_member(m, tenant_id) for m in members]
        self._chats[conversation_id] = full
        self._conversation_tenant[conversation_id] = tenant_id
        return full

    def block_member(self, member_id: str, status: int = 403, code: str = "MessageWritesBlocked") -> None:
        """The person blocked the bot: creating a chat with them and sending into it fail."""
        self._blocked[member_id] = _Failure(status, code, times=-1)

    def fail_create(self, member_id: str, status: int = 404, code: str = "ConversationNotFound") -> None:
        """Creating a 1:1 conversation with this member fails (e.g. the app is not installed)."""
        self._create_failures[member_id] = _Failure(status, code, times=-1)

    def fail_next(
        self,
        path_kind: str,
        status: int,
        times: int = 1,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next `times` requests of `path_kind` (see PATH_KINDS) answer `status`."""
        if path_kind not in PATH_KINDS:
            raise ValueError(f"unknown path kind {path_kind!r}; use one of {PATH_KINDS}")
        code = code or DEFAULT_CODES.get(status, "Error")
        if status == 429 and retry_after is None:
            retry_after = 1.0 / self.speedup
        self._next_failures[path_kind].append(_Failure(status, code, times, retry_after))

    def hold(self, path_kind: str, where: Callable[[RecordedRequest], bool] = lambda request: True) -> None:
        """Requests of `path_kind` (those `where` picks) take effect — a sent message is stored, it
        arrived — and then their answer waits until `release()`: the bot hasn't heard back. `held` lists
        them as they arrive."""
        if path_kind not in PATH_KINDS:
            raise ValueError(f"unknown path kind {path_kind!r}; use one of {PATH_KINDS}")
        self._released.clear()
        self._holds.append((path_kind, where))

    def release(self) -> None:
        """Answer the held requests (to whoever still listens) and hold no more."""
        self._holds.clear()
        self._released.set()

    # -- inspection --------------------------------------------------------------------------

    def activities(self, conversation_id: str) -> list[dict]:
        """Activities the bot posted in this exact conversation id, as they are now."""
        return [dict(a) for a in self._activities.get(conversation_id, [])]

    def all_activities(self) -> list[dict]:
        """Every activity in every conversation, in the order they were first posted."""
        every = [dict(a) for acts in self._activities.values() for a in acts]
        return sorted(every, key=lambda a: int(a["id"]))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10) -> Any:
        """Wait until `predicate()` is truthy (checked after every request); return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "\n  ".join(f"{r.method} {r.path} -> {r.status}" for r in self.requests[-10:])
                raise AssertionError(
                    f"condition not met within {timeout}s; last requests:\n  {seen or '(none)'}"
                )
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    # -- plumbing ----------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler):
        body = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = await request.text()
        kind = self._kind(request)
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            kind=kind,
            query=dict(request.query),
            json=body,
            authorization=request.headers.get("Authorization"),
        )
        self.requests.append(recorded)
        request[_BODY] = body
        try:
            response = self._injected_failure(kind) or self._throttle(request, kind, body)
            if response is None:
                response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        recorded.status = response.status
        self._changed.set()
        if response.status < 300 and any(kind == k and where(recorded) for k, where in self._holds):
            self.held.append(recorded)
            self._changed.set()
            await self._released.wait()
        return response

    @staticmethod
    def _kind(request: web.Request) -> str:
        handler = getattr(request.match_info.route, "handler", None)
        return {
            "_create_conversation": "create",
            "_send": "send",
            "_reply": "reply",
            "_update": "update",
            "_delete": "delete",
            "_members": "members",
            "_member": "member",
            "_paged_members": "pagedmembers",
            "_channels": "channels",
            "_team_details": "team",
        }.get(getattr(handler, "__name__", ""), "unknown")

    def _injected_failure(self, kind: str) -> web.Response | None:
        queue = self._next_failures.get(kind)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.popleft()
        return _error(failure.status, failure.code, retry_after=self._retry_after(failure.retry_after))

    def _throttle(self, request: web.Request, kind: str, body: Any) -> web.Response | None:
        if not self.rate_limits:
            return None
        conversation_id = request.match_info.get("conversation_id")
        if kind == "create" and isinstance(body, dict):
            conversation_id = _one_to_one_id(body)
        tenant = self._tenant_of(conversation_id, body)
        now = self._clock()
        keys = [(f"tenant:{tenant}", TENANT_LIMITS)]
        if kind in RATE_LIMITED_KINDS and conversation_id:
            keys.append((f"thread:{conversation_id}", THREAD_LIMITS))
        wait = max(self._wait_needed(key, limits, now) for key, limits in keys)
        if wait > 0:
            return _error(429, "TooManyRequests", retry_after=self._retry_after(wait))
        for key, _ in keys:
            self._hits[key].append(now)
        return None

    def _wait_needed(self, key: str, limits, now: float) -> float:
        hits = self._hits[key]
        longest = max(window for _, window in limits) / self.speedup
        while hits and hits[0] <= now - longest:
            hits.popleft()
        wait = 0.0
        for limit, window in limits:
            window /= self.speedup
            in_window = [t for t in hits if t > now - window]
            if len(in_window) >= limit:
                wait = max(wait, in_window[-limit] + window - now)
        return wait

    def _retry_after(self, seconds: float | None) -> str | None:
        """Whole seconds like Teams; with a speedup, decimals so tests wait milliseconds."""
        if seconds is None:
            return None
        if self.speedup == 1:
            return str(max(1, math.ceil(seconds)))
        return f"{max(seconds, 0.001):.3f}"

    def _tenant_of(self, conversation_id: str | None, body: Any) -> str:
        if conversation_id:
            base = conversation_id.split(";", 1)[0]
            if base in self._conversation_tenant:
                return self._conversation_tenant[base]
        if isinstance(body, dict):
            tenant = body.get("tenantId") or ((body.get("channelData") or {}).get("tenant") or {}).get("id")
            if tenant:
                return tenant
        return DEFAULT_TENANT_ID

    def _complete_member(self, member: dict, tenant_id: str) -> dict:
        name = member.get("name") or "Person"
        aad = member.get("aadObjectId") or str(uuid.uuid4())
        login = name.lower().replace(" ", ".") + "@contoso.example"
        full = {
            "id": member.get("id") or f"29:1{aad.replace('-', '')}",
            "name": name,
            "aadObjectId": aad,
            "givenName": member.get("givenName") or name.split(" ")[0],
            "surname": member.get("surname") or (name.split(" ")[-1] if " " in name else None),
            "email": member.get("email") or login,
            "userPrincipalName": member.get("userPrincipalName") or login,
            "tenantId": tenant_id,
            "userRole": member.get("userRole") or "user",
        }
        if "locale" in member:
            full["locale"] = member["locale"]
        self._member_index[full["id"]] = full
        return full

    def _roster(self, conversation_id: str) -> list[dict] | None:
        base = conversation_id.split(";", 1)[0]
        for team in self._teams.values():
            if any(c["id"] == base for c in team.channels):
                return team.members
        if conversation_id in self._chats:
            return self._chats[conversation_id]
        for created in self.created_conversations:
            if created["id"] == conversation_id:
                member = self._member_index.get(created["member_id"])
                return [member or {"id": created["member_id"]}]
        return None

    def _store(self, conversation_id: str, activity: dict, reply_to_id: str | None) -> str:
        activity_id = str(next(self._ids))
        stored = dict(activity)
        stored["id"] = activity_id
        stored["conversation"] = {**(stored.get("conversation") or {}), "id": conversation_id}
        if reply_to_id:
            stored["replyToId"] = reply_to_id
        self._activities[conversation_id].append(stored)
        return activity_id

    def _blocked_failure(self, conversation_id: str) -> web.Response | None:
        for member_id, failure in self._blocked.items():
            if conversation_id == f"a:1:{member_id}":
                return _error(failure.status, failure.code)
        return None

    # -- handlers ----------------------------------------------------------------------------

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = request[_BODY] or {}
        members = body.get("members") or []
        channel_data = body.get("channelData") or {}
        channel_id = (channel_data.get("channel") or {}).get("id")
        tenant = body.get("tenantId") or (channel_data.get("tenant") or {}).get("id") or DEFAULT_TENANT_ID
        if body.get("isGroup") and channel_id:
            # A new thread in a channel: the first activity is the thread's root post.
            activity = body.get("activity") or {}
            activity_id = str(next(self._ids))
            conversation_id = f"{channel_id};messageid={activity_id}"
            stored = {**activity, "id": activity_id, "conversation": {"id": conversation_id}}
            self._activities[conversation_id].append(stored)
            self.created_conversations.append(
                {"id": conversation_id, "member_id": None, "tenant_id": tenant, "is_group": True,
                 "channel_data": channel_data, "bot": body.get("bot"), "activity_id": activity_id}
            )
            return web.json_response({"id": conversation_id, "activityId": activity_id}, status=201)
        if len(members) != 1 or not members[0].get("id"):
            return _error(400, "BadArgument", "a 1:1 conversation needs exactly one member with an id")
        member_id = members[0]["id"]
        failure = self._blocked.get(member_id) or self._create_failures.get(member_id)
        if failure:
            return _error(failure.status, failure.code)
        conversation_id = f"a:1:{member_id}"
        self._conversation_tenant[conversation_id] = tenant
        activity_id = None
        if body.get("activity"):
            activity_id = self._store(conversation_id, body["activity"], None)
        if not any(c["id"] == conversation_id for c in self.created_conversations):
            self.created_conversations.append(
                {"id": conversation_id, "member_id": member_id, "tenant_id": tenant,
                 "is_group": bool(body.get("isGroup")), "channel_data": channel_data,
                 "bot": body.get("bot"), "activity_id": activity_id}
            )
        return web.json_response({"id": conversation_id, "activityId": activity_id}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        blocked = self._blocked_failure(conversation_id)
        if blocked:
            return blocked
        activity = request[_BODY] or {}
        activity_id = self._store(conversation_id, activity, activity.get("replyToId"))
        return web.json_response({"id": activity_id}, status=201)

    async def _reply(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        blocked = self._blocked_failure(conversation_id)
        if blocked:
            return blocked
        activity_id = self._store(conversation_id, request[_BODY] or {}, request.match_info["activity_id"])
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info["activity_id"]
        for index, existing in enumerate(self._activities.get(conversation_id, [])):
            if existing["id"] == activity_id:
                updated = {**(request[_BODY] or {})}
                for kept in ("id", "conversation", "replyToId"):
                    if kept in existing:
                        updated[kept] = existing[kept]
                self._activities[conversation_id][index] = updated
                return web.json_response({"id": activity_id})
        return _error(404, "ActivityNotFound", f"no activity {activity_id} in {conversation_id}")

    async def _delete(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info["activity_id"]
        activities = self._activities.get(conversation_id, [])
        for existing in activities:
            if existing["id"] == activity_id:
                activities.remove(existing)
                return web.Response(status=200)
        return _error(404, "ActivityNotFound", f"no activity {activity_id} in {conversation_id}")

    async def _members(self, request: web.Request) -> web.Response:
        roster = self._roster(request.match_info["conversation_id"])
        if roster is None:
            return _error(404, "ConversationNotFound")
        return web.json_response(roster)

    async def _member(self, request: web.Request) -> web.Response:
        roster = self._roster(request.match_info["conversation_id"])
        if roster is None:
            return _error(404, "ConversationNotFound")
        wanted = request.match_info["member_id"]
        for member in roster:
            if wanted in (member.get("id"), member.get("aadObjectId")):
                return web.json_response(member)
        return _error(404, "MemberNotFoundInConversation", f"{wanted} is not in this conversation")

    async def _paged_members(self, request: web.Request) -> web.Response:
        roster = self._roster(request.match_info["conversation_id"])
        if roster is None:
            return _error(404, "ConversationNotFound")
        try:
            page_size = min(int(request.query.get("pageSize", 200)), 500)
            token = request.query.get("continuationToken")
            start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except ValueError:
            return _error(400, "BadArgument", "invalid pageSize or continuationToken")
        page = roster[start : start + max(page_size, 1)]
        result: dict[str, Any] = {"members": page}
        end = start + len(page)
        if end < len(roster):
            result["continuationToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
        return web.json_response(result)

    async def _channels(self, request: web.Request) -> web.Response:
        team = self._teams.get(request.match_info["team_id"])
        if team is None:
            return _error(404, "TeamNotFound")
        return web.json_response({"conversations": team.channels})

    async def _team_details(self, request: web.Request) -> web.Response:
        team = self._teams.get(request.match_info["team_id"])
        if team is None:
            return _error(404, "TeamNotFound")
        return web.json_response(
            {"id": team.id, "name": team.name, "aadGroupId": team.aad_group_id,
             "channelCount": len(team.channels), "memberCount": len(team.members)}
        )


def _one_to_one_id(body: dict) -> str | None:
    members = body.get("members") or []
    if len(members) == 1 and members[0].get("id"):
        return f"a:1:{members[0]['id']}"
    return None


def _error(status: int, code: str, message: str | None = None, retry_after: str | None = None) -> web.Response:
    """An error the way the Bot Connector writes it: `{"error": {"code", "message"}}`."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return web.json_response(
        {"error": {"code": code, "message": message or code}}, status=status, headers=headers
    )
