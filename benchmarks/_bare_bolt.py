"""The baseline for ack_latency: a bare Bolt AsyncApp on aiohttp that acks and then makes the same
platform call unmeet makes (views.open for the command and the Answer button, chat.postEphemeral
after the answer form is submitted), with nothing else — no database, no i18n, no jobs."""

import os

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], process_before_response=False)
VIEW = {"type": "modal", "callback_id": "x", "title": {"type": "plain_text", "text": "Baseline"},
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "hello"}}]}


@app.command("/share-insight")
async def command(ack, body, client):
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=VIEW)


@app.action("round.answer")
async def answer(ack, body, client):
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=VIEW)


@app.view("round.answer_form")
async def submitted(ack, body, client):
    await ack(response_action="clear")
    await client.chat_postEphemeral(channel="C1", user=body["user"]["id"], text="Thank you!")


async def handle(request: web.Request) -> web.Response:
    return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def keep_alive(_app: web.Application) -> None:
    """One HTTP session for all calls, as unmeet has: otherwise each call opens a connection, and the
    baseline would do more work than unmeet, not less."""
    client.session = aiohttp.ClientSession()


web_app = web.Application()
web_app.on_startup.append(keep_alive)
web_app.router.add_post("/slack/events", handle)
web_app.router.add_get("/healthz", healthz)
web.run_app(web_app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None, access_log=None)
