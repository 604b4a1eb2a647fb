"""/metrics of a Teams round: activities counted by type, the Bot Connector's calls by method, and no
tenant, conversation or person in any label."""

from __future__ import annotations

import aiohttp

from tests.fakes.teams_activities import CHANNEL_ID, TEAM_ID, personal_conversation_id
from tests.ops.test_logs_and_metrics import samples, value
from tests.teams_app.conftest import BOB, CEM, DIRK, EVA, world  # noqa: F401 - the fixture
from tests.teams_app.test_round import share_round


async def test_teams_activities_and_bot_connector_calls_are_counted(world):  # noqa: F811
    bc = world.connector
    await share_round(world)
    await bc.wait_for(lambda: all(bc.activities(personal_conversation_id(p)) for p in (BOB, CEM, DIRK, EVA)))
    await bc.wait_for(lambda: bc.activities(CHANNEL_ID))
    async with aiohttp.ClientSession() as session, session.get(f"{world.url}/metrics") as response:
        assert response.status == 200
        found = samples([await response.text()])
    assert value(found, "unmeet_requests_total", endpoint="teams_messages", kind="message", status="201") >= 2
    assert value(found, "unmeet_requests_total", endpoint="teams_messages", kind="conversationUpdate",
                 status="201") == 1
    assert value(found, "unmeet_ack_seconds_count", endpoint="teams_messages", kind="message") >= 2
    assert value(found, "unmeet_platform_calls_total", platform="teams", method="create_conversation") == 4
    assert value(found, "unmeet_platform_calls_total", platform="teams", method="send_activity") >= 5
    assert value(found, "unmeet_platform_calls_total", platform="teams", method="get_paged_members") >= 1
    labels = {v for _, pairs in found for _, v in pairs}
    people = {p.id for p in (BOB, CEM, DIRK, EVA)} | {p.name for p in (BOB, CEM, DIRK, EVA)}
    assert not labels & (people | {TEAM_ID, CHANNEL_ID, "Product team", "Reflections"})
