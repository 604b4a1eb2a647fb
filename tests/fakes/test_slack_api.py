"""The Slack fake, checked through the real slack_sdk client and a real Bolt app over loopback HTTP."""

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi, Limit, block_kit_problems

BOT = "xoxb-test"


@pytest.fixture
async def slack():
    async with FakeSlackApi(bot_token=BOT, rate_limits=False) as fake:
        fake.add_user("U1", "ann", "Ann Peeters", locale="nl-BE")
        fake.add_user("U2", "bob", "Bob Janssens")
        fake.add_channel("C1", "team", members=["U1", "U2"])
        yield fake


def client_for(slack: FakeSlackApi, token: str = BOT, **kwargs) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.base_url, **kwargs)


async def expect_error(call, error: str) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    assert info.value.response["error"] == error
    return info.value


def modal(title: str = "Share", blocks: list | None = None, **extra) -> dict:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": blocks or [], **extra}


async def test_unknown_token_is_invalid_auth(slack):
    await expect_error(client_for(slack, "xoxb-nope").auth_test(), "invalid_auth")
    answer = await client_for(slack).auth_test()
    assert (answer["team_id"], answer["user_id"]) == ("T1", "UBOT")


async def test_post_to_user_id_lands_in_dm_and_ts_increases(slack):
    client = client_for(slack)
    first = await client.chat_postMessage(channel="U1", text="one")
    second = await client.chat_postMessage(channel="DU1", text="two")
    assert first["channel"] == "DU1"
    assert float(second["ts"]) > float(first["ts"])
    assert [m["text"] for m in slack.dms("U1")] == ["one", "two"]
    await expect_error(client.chat_postMessage(channel="C404", text="x"), "channel_not_found")
    slack.add_channel("C2", "elsewhere", members=["U1"], bot_is_member=False)
    await expect_error(client.chat_postMessage(channel="C2", text="x"), "not_in_channel")


async def test_update_changes_message_and_missing_message_fails(slack):
    client = client_for(slack)
    posted = await client.chat_postMessage(channel="C1", text="draft")
    await client.chat_update(channel="C1", ts=posted["ts"], text="final")
    assert slack.messages("C1")[0]["text"] == "final"
    await expect_error(client.chat_update(channel="C1", ts="1.000001", text="x"), "message_not_found")


async def test_threads_history_and_metadata(slack):
    client = client_for(slack)
    parent = await client.chat_postMessage(
        channel="U1", text="q", metadata={"event_type": "round_dm", "event_payload": {"round": 7}})
    await client.chat_postMessage(channel="U1", text="reply", thread_ts=parent["ts"])
    await client.chat_postMessage(channel="U1", text="later")
    history = await client.conversations_history(channel="DU1", include_all_metadata=True, limit=10)
    assert [m["text"] for m in history["messages"]] == ["later", "q"]
    assert history["messages"][1]["metadata"]["event_payload"] == {"round": 7}
    plain = await client.conversations_history(channel="DU1")
    assert "metadata" not in plain["messages"][1]
    replies = await client.conversations_replies(channel="DU1", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["q", "reply"]


async def test_members_and_users_are_paged(slack):
    for i in range(5):
        slack.add_user(f"UX{i}", f"x{i}", f"X {i}")
    slack.add_channel("CBIG", "big", members=[f"UX{i}" for i in range(5)])
    client = client_for(slack)
    members, cursor = [], None
    while True:
        page = await client.conversations_members(channel="CBIG", limit=2, cursor=cursor)
        assert len(page["members"]) <= 2
        members += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert members == [f"UX{i}" for i in range(5)] + ["UBOT"]
    first = await client.users_list(limit=3)
    second = await client.users_list(limit=3, cursor=first["response_metadata"]["next_cursor"])
    assert len(first["members"]) == 3 and second["members"][0]["id"] not in {u["id"] for u in first["members"]}
    info = await client.users_info(user="U1", include_locale=True)
    assert info["user"]["locale"] == "nl-BE" and info["user"]["tz"] == "Europe/Brussels"


async def test_trigger_id_is_single_use_and_expires():
    async with FakeSlackApi(bot_token=BOT, rate_limits=False, speedup=60) as slack:  # 3 s -> 50 ms
        slack.add_user("U1", "ann", "Ann")
        client = client_for(slack)
        trigger = slack.new_trigger_id("U1")
        opened = await client.views_open(trigger_id=trigger, view=modal())
        assert slack.open_views("U1")[0]["id"] == opened["view"]["id"]
        await expect_error(client.views_open(trigger_id=trigger, view=modal()), "expired_trigger_id")
        await expect_error(client.views_open(trigger_id="9.9.unknown", view=modal()), "invalid_trigger_id")
        late = slack.new_trigger_id("U1")
        await asyncio.sleep(0.1)
        await expect_error(client.views_open(trigger_id=late, view=modal()), "expired_trigger_id")


async def test_views_push_stacks_at_most_three(slack):
    client = client_for(slack)
    await client.views_open(trigger_id=slack.new_trigger_id("U1"), view=modal("1"))
    await client.views_push(trigger_id=slack.new_trigger_id("U1"), view=modal("2"))
    await client.views_push(trigger_id=slack.new_trigger_id("U1"), view=modal("3"))
    await expect_error(client.views_push(trigger_id=slack.new_trigger_id("U1"), view=modal("4")),
                       "push_limit_reached")
    assert [v["title"]["text"] for v in slack.open_views("U1")] == ["1", "2", "3"]


async def test_block_kit_limits_are_enforced(slack):
    client = client_for(slack)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    error = await expect_error(client.chat_postMessage(channel="C1", text="t", blocks=[section] * 51),
                               "invalid_blocks")
    assert "[json-pointer:/blocks]" in error.response["response_metadata"]["messages"][0]
    long_text = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    await expect_error(client.chat_postMessage(channel="C1", text="t", blocks=[long_text]), "invalid_blocks")
    await client.chat_postMessage(channel="C1", text="t", blocks=[section] * 50)
    error = await expect_error(
        client.views_open(trigger_id=slack.new_trigger_id("U1"), view=modal("A title of 25 characters!")),
        "invalid_arguments")
    assert "/view/title/text" in error.response["response_metadata"]["messages"][0]
    huge = modal(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2900}}] * 90)
    await expect_error(client.views_open(trigger_id=slack.new_trigger_id("U1"), view=huge), "view_too_large")


@pytest.mark.parametrize(
    "block, pointer",
    [
        ({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}, "/blocks/0/text"),
        ({"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}, "/blocks/0/fields"),
        ({"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "v" * 2001,
                                           "text": {"type": "plain_text", "text": "b"}}]},
         "/blocks/0/elements/0/value"),
        ({"type": "actions", "block_id": "b" * 256, "elements": []}, "/blocks/0/block_id"),
        ({"type": "input", "label": {"type": "plain_text", "text": "l"},
          "element": {"type": "static_select", "action_id": "s", "options": [
              {"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}]}},
         "/blocks/0/element/options/0/value"),
    ],
)
def test_block_validator_points_at_the_offending_field(block, pointer):
    problems = block_kit_problems({"blocks": [block]}, "message")
    assert len(problems) == 1 and problems[0].endswith(f"[json-pointer:{pointer}]")


async def test_rate_limit_429_is_honoured_by_sdk_retry_handler():
    # 1 message per second per channel, no burst: the second post must wait for Retry-After.
    async with FakeSlackApi(bot_token=BOT, post_per_channel=Limit(1.0, 1)) as slack:
        slack.add_channel("C1", "team")
        client = client_for(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
        started = time.monotonic()
        await client.chat_postMessage(channel="C1", text="a")
        await client.chat_postMessage(channel="C1", text="b")
        assert time.monotonic() - started >= 1.0
        statuses = [c.status for c in slack.calls_to("chat.postMessage")]
        assert statuses == [200, 429, 200]
        assert len(slack.messages("C1")) == 2


async def test_rate_limit_tiers_and_floor():
    async with FakeSlackApi(bot_token=BOT) as slack:  # dnd.setSnooze is Tier 2: 20 per minute
        slack.add_user("U1", "ann", "Ann")
        slack.add_user_token("xoxp-ann", "U1")
        client = client_for(slack, token="xoxp-ann")
        for _ in range(20):
            await client.dnd_setSnooze(num_minutes=30)
        error = await expect_error(client.dnd_setSnooze(num_minutes=30), "ratelimited")
        assert error.response.status_code == 429 and int(error.response.headers["Retry-After"]) in (2, 3)
        history = client_for(slack)  # not a Marketplace app: history is 1 call per minute
        await history.conversations_history(channel="DU1")
        await expect_error(history.conversations_history(channel="DU1"), "ratelimited")


def test_floor_seconds_follows_limits_and_speedup():
    slack = FakeSlackApi(speedup=600, post_per_channel=Limit(1.0, 3), post_per_workspace=Limit(5.0, 20))
    assert slack.floor_seconds("dnd.setSnooze", 40) == pytest.approx(20 / (20 / 60) / 600)
    assert slack.floor_seconds("chat.postMessage", 103) == pytest.approx(100 / 600)
    assert slack.floor_seconds("chat.postMessage", 120, channels=60) == pytest.approx(100 / 5 / 600)
    assert FakeSlackApi(rate_limits=False).floor_seconds("views.open", 1000) == 0


async def test_fail_next_injects_faults(slack):
    client = client_for(slack)
    slack.fail_next("chat.postMessage", error="fatal_error")
    await expect_error(client.chat_postMessage(channel="C1", text="x"), "fatal_error")
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    error = await expect_error(client.chat_postMessage(channel="C1", text="x"), "ratelimited")
    assert error.response.headers["Retry-After"] == "30"
    await client.chat_postMessage(channel="C1", text="x")
    assert [c.ok for c in slack.calls_to("chat.postMessage")] == [False, False, True]


async def test_file_upload_flow_records_bytes_and_channel(slack):
    client = client_for(slack)
    answer = await client.files_upload_v2(channel="C1", content=b"\x89PNG chart", filename="digest.png",
                                          title="Digest", initial_comment="This week")
    (file,) = slack.files.values()
    assert answer["file"]["id"] == file.id
    assert (file.content, file.channel, file.title) == (b"\x89PNG chart", "C1", "Digest")
    assert slack.messages("C1")[-1]["text"] == "This week"


async def test_user_token_methods(slack):
    bot = client_for(slack)
    await expect_error(bot.users_profile_set(profile={"status_text": "Focus"}), "not_allowed_token_type")
    await expect_error(bot.dnd_setSnooze(num_minutes=90), "not_allowed_token_type")
    slack.add_oauth_code("code-1", "U1", "xoxp-ann")
    granted = await AsyncWebClient(base_url=slack.base_url).oauth_v2_access(
        client_id=slack.client_id, client_secret=slack.client_secret, code="code-1")
    assert granted["authed_user"] == {"id": "U1", "scope": "users.profile:write,dnd:write",
                                      "access_token": "xoxp-ann", "token_type": "user"}
    await expect_error(AsyncWebClient(base_url=slack.base_url).oauth_v2_access(
        client_id=slack.client_id, client_secret=slack.client_secret, code="code-1"), "invalid_code")
    user = client_for(slack, "xoxp-ann")
    await user.users_profile_set(profile={"status_text": "Focus", "status_emoji": ":brain:"})
    snooze = await user.dnd_setSnooze(num_minutes=90)
    assert slack.profile("U1")["status_text"] == "Focus" and snooze["snooze_enabled"]
    await user.dnd_endSnooze()
    await expect_error(user.dnd_endSnooze(), "snooze_not_active")
    assert slack.profile("U2")["status_text"] == ""


async def test_an_install_code_gives_a_bot_token_that_works_only_in_its_workspace(slack):
    slack.add_team("T2", "Other Team", bot_user_id="UBOT2", bot_id="BBOT2")
    slack.add_user("V1", "vera", "Vera Claes", team_id="T2")
    slack.add_channel("C9", "other", members=["V1"], team_id="T2")
    await expect_error(client_for(slack, "xoxb-two").auth_test(), "invalid_auth")  # not installed yet
    slack.add_install_code("install-1", "T2", "V1", "xoxb-two", "commands,chat:write")
    oauth = AsyncWebClient(base_url=slack.base_url)
    granted = await oauth.oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret,
                                          code="install-1")
    assert (granted["access_token"], granted["token_type"], granted["bot_user_id"]) == ("xoxb-two", "bot", "UBOT2")
    assert (granted["team"]["id"], granted["authed_user"]["id"], granted["scope"]) == ("T2", "V1",
                                                                                      "commands,chat:write")
    await expect_error(oauth.oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret,
                                             code="install-1"), "invalid_code")
    two, one = client_for(slack, "xoxb-two"), client_for(slack)
    assert (await two.auth_test())["team_id"] == "T2"
    posted = await two.chat_postMessage(channel="C9", text="hallo")
    assert posted["message"]["bot_id"] == "BBOT2" and slack.team_of_token("xoxb-two") == "T2"
    await two.chat_postMessage(channel="V1", text="dm")
    # Each token sees only its own workspace.
    await expect_error(two.chat_postMessage(channel="C1", text="x"), "channel_not_found")
    await expect_error(two.chat_postMessage(channel="U1", text="x"), "channel_not_found")
    await expect_error(two.users_info(user="U1"), "user_not_found")
    await expect_error(one.chat_postMessage(channel="C9", text="x"), "channel_not_found")
    await expect_error(one.conversations_open(users="V1"), "user_not_found")
    await expect_error(one.views_open(trigger_id=slack.new_trigger_id("V1"), view=modal()), "invalid_trigger_id")


async def test_with_token_rotation_tokens_expire_and_a_refresh_token_works_once():
    now = [100.0]
    async with FakeSlackApi(BOT, rate_limits=False, rotation=True, expires_in=600, clock=lambda: now[0]) as slack:
        slack.add_user("U1", "ann", "Ann Peeters")
        oauth = AsyncWebClient(base_url=slack.base_url)
        creds = dict(client_id=slack.client_id, client_secret=slack.client_secret)
        slack.add_install_code("install-1", "T1", "U1", "xoxb-expiring", "commands")
        granted = await oauth.oauth_v2_access(**creds, code="install-1")
        assert granted["expires_in"] == 600 and granted["refresh_token"].startswith("xoxe-1-")
        slack.add_oauth_code("user-1", "U1", "xoxp-expiring")
        user = (await oauth.oauth_v2_access(**creds, code="user-1"))["authed_user"]
        assert user["expires_in"] == 600 and user["refresh_token"] != granted["refresh_token"]

        now[0] += 300
        renewed = await oauth.oauth_v2_access(**creds, grant_type="refresh_token", refresh_token=granted["refresh_token"])
        assert renewed["token_type"] == "bot" and renewed["expires_in"] == 600
        assert renewed["access_token"] != "xoxb-expiring" and slack.renewed == [renewed["access_token"]]
        assert [c.ok for c in slack.refreshes()] == [True]
        await expect_error(oauth.oauth_v2_access(**creds, grant_type="refresh_token",
                                                 refresh_token=granted["refresh_token"]), "invalid_refresh_token")
        # The old token keeps working until its own expiry; then only the new one works.
        assert (await client_for(slack, "xoxb-expiring").auth_test())["user_id"] == "UBOT"
        now[0] += 300
        await expect_error(client_for(slack, "xoxb-expiring").auth_test(), "token_expired")
        assert (await client_for(slack, renewed["access_token"]).auth_test())["user_id"] == "UBOT"
        slack.expire_token(renewed["access_token"])
        await expect_error(client_for(slack, renewed["access_token"]).auth_test(), "token_expired")
        # A person's own token renews the same way, as a user token.
        mine = await oauth.oauth_v2_access(**creds, grant_type="refresh_token", refresh_token=user["refresh_token"])
        assert mine["token_type"] == "user" and mine["access_token"].startswith("xoxe.xoxp-")
        await client_for(slack, mine["access_token"]).users_profile_set(profile={"status_text": "busy"})


async def test_without_rotation_tokens_never_expire_and_nothing_renews(slack):
    slack.add_install_code("install-1", "T1", "U1", "xoxb-forever", "commands")
    oauth = AsyncWebClient(base_url=slack.base_url)
    granted = await oauth.oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret,
                                          code="install-1")
    assert "refresh_token" not in granted and "expires_in" not in granted
    await expect_error(oauth.oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret,
                                             grant_type="refresh_token", refresh_token="xoxe-1-x"),
                       "token_rotation_not_enabled")


async def test_home_publish_and_wait_for(slack):
    client = client_for(slack)
    asyncio.get_running_loop().call_later(
        0.05, lambda: asyncio.ensure_future(client.views_publish(user_id="U1", view={"type": "home", "blocks": []})))
    view = await slack.wait_for(lambda: slack.home_views.get("U1"), timeout=2)
    assert view["type"] == "home"
    with pytest.raises(TimeoutError):
        await slack.wait_for(lambda: slack.home_views.get("U2"), timeout=0.1)


@pytest.fixture
async def bolt_server(slack):
    """A Bolt AsyncApp on a loopback port whose Web API calls go to the fake."""
    app = AsyncApp(signing_secret=slack_requests.SIGNING_SECRET,
                   client=AsyncWebClient(token=BOT, base_url=slack.base_url))

    @app.command("/unmeet")
    async def unmeet(ack, command, client):
        await ack()
        await client.chat_postMessage(channel=command["user_id"], text=f"got {command['text']}")

    runner = web.AppRunner(app.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


@pytest.mark.parametrize(
    "signing, status",
    [({}, 200), ({"signing_secret": "wrong"}, 401), ({"timestamp": time.time() - 600}, 401)],
)
async def test_bolt_verifies_signed_requests(slack, bolt_server, signing, status):
    body, headers = slack_requests.slash_command("/unmeet", "help", user_id="U1", **signing)
    async with aiohttp.ClientSession() as http:
        async with http.post(bolt_server, data=body, headers=headers) as response:
            assert response.status == status
    if status == 200:
        await slack.wait_for(lambda: slack.dms("U1"))
        assert slack.dms("U1")[0]["text"] == "got help"
    else:
        assert slack.calls_to("chat.postMessage") == []
