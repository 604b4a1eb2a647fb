"""Fuzzed, validly signed requests at `/slack/events` never get a 5xx and never make a listener
fail (reliability.md 17). The app runs in-process on a loopback port for speed."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.bootstrap import build_deps
from core.config import Settings
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN
from unmeet.server import build_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

IDS = st.sampled_from(["U1", "T1", "C1", "DU1", "1", "round.answer", "round.share", "round.confirm",
                       "round.answer_form", "/share-insight", "", "x" * 300, "<!channel>", "0", "-1", "99999999999"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30), IDS)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.one_of(IDS, st.text(max_size=8)), inner,
                                                                     max_size=5)), max_leaves=20)


def _shaped(kind: str):
    """Payloads that look like Slack's, with any part replaced by junk."""
    return st.fixed_dictionaries({
        "type": st.just(kind) | JSON,
        "team": st.fixed_dictionaries({"id": IDS}) | JSON,
        "user": st.fixed_dictionaries({"id": IDS, "team_id": IDS}) | JSON,
        "trigger_id": IDS | JSON,
        "channel": st.fixed_dictionaries({"id": IDS}) | JSON,
        "actions": st.lists(st.fixed_dictionaries({"action_id": IDS, "value": IDS | JSON, "type": IDS}), max_size=2)
        | JSON,
        "view": st.fixed_dictionaries({"callback_id": IDS, "private_metadata": IDS | JSON,
                                       "state": st.fixed_dictionaries({"values": JSON})}) | JSON,
    }, optional={"extra": JSON})


INTERACTIVE = st.one_of(*(_shaped(kind) for kind in ("block_actions", "view_submission", "view_closed",
                                                     "shortcut", "message_action", "block_suggestion")))
COMMAND = st.dictionaries(st.sampled_from(["command", "text", "user_id", "team_id", "channel_id", "trigger_id"]),
                          st.one_of(IDS, st.text(max_size=40)))
EVENT = st.fixed_dictionaries({"type": st.just("event_callback") | IDS, "team_id": IDS | JSON,
                               "event_id": IDS | JSON,
                               "event": st.fixed_dictionaries({"type": st.sampled_from(
                                   ["app_uninstalled", "tokens_revoked", "app_home_opened", "message"]) | IDS})
                               | JSON})


def bodies():
    form = "application/x-www-form-urlencoded"
    return st.one_of(
        INTERACTIVE.map(lambda p: (urlencode({"payload": json.dumps(p)}).encode(), form)),
        COMMAND.map(lambda c: (urlencode(c).encode(), form)),
        EVENT.map(lambda e: (json.dumps(e).encode(), "application/json")),
        JSON.map(lambda j: (json.dumps(j).encode(), "application/json")),
        st.binary(max_size=200).map(lambda b: (b, form)),
        st.text(max_size=200).map(lambda t: (b"payload=" + t.encode(), form)),
    )


def signed_headers(body: bytes, content_type: str) -> dict[str, str]:
    """Slack's v0 signature over any bytes (slack_sdk's signer only takes UTF-8 text)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(slack_requests.SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


class Failures(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app_url(module_database_url):
    async with FakeSlackApi(BOT_TOKEN, rate_limits=False) as slack:
        slack.add_user("U1", "ann", "Ann")
        slack.add_channel("C1", "team", members=["U1"])
        deps = build_deps(Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=slack_requests.SIGNING_SECRET,
                                   slack_api_url=slack.base_url, database_url=module_database_url))
        app, _notes = build_app(deps)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        failures = Failures()
        logging.getLogger().addHandler(failures)
        try:
            async with aiohttp.ClientSession() as session:
                yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", session, failures
        finally:
            logging.getLogger().removeHandler(failures)
            await runner.cleanup()
            await deps.close()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(request=bodies())
# Found by this test: a view_submission whose view has no "type" made Bolt raise KeyError (a 500).
@example(request=(urlencode({"payload": json.dumps({"type": "view_submission", "team": {"id": "T1"},
                                                    "user": {"id": "U1"}, "view": {"callback_id": "x"}})}).encode(),
                  "application/x-www-form-urlencoded"))
async def test_fuzzed_signed_requests_never_fail(app_url, request):
    url, session, failures = app_url
    body, content_type = request
    async with session.post(url, data=body, headers=signed_headers(body, content_type)) as response:
        assert response.status < 500, (response.status, body[:300])
    assert failures.records == [], [r.getMessage() for r in failures.records]
