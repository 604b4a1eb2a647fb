"""`slack_app.acks.AnswerAtAck`: a real Bolt `AsyncApp` with unmeet's listener runner, served over
HTTP by aiohttp, with signed requests. The HTTP answer is the ack, sent while the listener goes on;
events are answered before their listener ends; a listener failing before its ack gets Bolt's answer."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from slack_app.acks import AnswerAtAck, answer_at_ack
from tests.fakes import slack_requests


@pytest.fixture
async def served():
    async def authorize(**_):  # no Web API here: the bot is who it says
        return AuthorizeResult(enterprise_id=None, team_id=slack_requests.TEAM_ID, bot_token="xoxb-test",
                               bot_user_id=slack_requests.BOT_USER_ID, bot_id="B1")

    app = AsyncApp(authorize=authorize, signing_secret=slack_requests.SIGNING_SECRET, process_before_response=False)
    answer_at_ack(app)

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    async with TestServer(web_app) as server, aiohttp.ClientSession() as session:
        async def post(signed) -> tuple[int, str]:
            body, headers = signed
            async with session.post(server.make_url("/slack/events"), data=body, headers=headers) as response:
                return response.status, await response.text()

        yield app, post


async def test_the_answer_is_the_ack_and_the_listener_goes_on_after_it(served):
    app, post = served
    assert isinstance(app.listener_runner, AnswerAtAck)
    answered, finished = asyncio.Event(), asyncio.Event()

    @app.view("form")
    async def submitted(ack):
        await asyncio.sleep(0.02)  # e.g. a commit before the ack
        await ack(response_action="errors", errors={"a1": "Please fill this in."})
        await answered.wait()  # only the test's having read the answer lets it end
        finished.set()

    status, text = await post(slack_requests.view_submission({"callback_id": "form", "state": {"values": {}}}))
    assert status == 200 and '"errors"' in text and "Please fill this in." in text
    assert not finished.is_set()
    answered.set()
    await asyncio.wait_for(finished.wait(), 5)


async def test_an_event_is_answered_before_its_listener_ends(served):
    app, post = served
    release, finished = asyncio.Event(), asyncio.Event()

    @app.event("app_home_opened")
    async def home(event):
        await release.wait()
        finished.set()

    status, _ = await post(slack_requests.event({"type": "app_home_opened", "user": "U1", "tab": "home"}))
    assert status == 200 and not finished.is_set()
    release.set()
    await asyncio.wait_for(finished.wait(), 5)


async def test_a_listener_failing_before_its_ack_gets_bolts_error_handling(served):
    app, post = served
    handled = []

    @app.error
    async def on_error(error):
        handled.append(str(error))

    @app.command("/share-insight")
    async def command(ack):
        await asyncio.sleep(0)
        raise RuntimeError("broken before the ack")

    status, _ = await post(slack_requests.slash_command("/share-insight"))
    assert status == 500 and handled == ["broken before the ack"]
