"""What an operator sees of a busy morning: two real `unmeet serve` processes (JSON logs) and a
`jobs run-due` against the loopback Slack and OpenAI fakes, through an "Add to Slack" install, a round
(shared, answered, summarised now by the model, closed with the model's summary), a focus session
after connecting a user token, and a 429 from Slack (reliability.md 7).

The logs are JSON lines with a request or job id and hold no token, no secret and no text people
wrote; /metrics counts the requests, jobs, platform calls, 429s and the model's calls and tokens,
with no id or text in any label."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from core.domain.rounds import deadline_instant
from tests.fakes import slack_requests
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi
from tests.focus.test_slack_focus import connect, focus
from tests.slack_app.conftest import serving
from tests.slack_app.test_installs import install
from tests.slack_app.test_llm import ephemeral_to
from tests.slack_app.test_round import DEADLINE, TZ, answer, replies, share, texts

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOT_TOKEN = "xoxb-installed-bot-token-7Qk2"
USER_TOKEN = "xoxp-connected-user-token-9Zr4"
CLIENT_SECRET = "slack-client-secret-5Hn8"
SECRET_KEY = "unmeet-secret-key-3Vb6-at-least-32-chars"
LLM_KEY = "sk-llm-api-key-8Jd1"
TITLE = "Quarterly planning without the marathon meeting"
FOCUS_TEXT = "drafting the confidential reorg memo"
ANSWERS = {
    "U2": ("Mornings without meetings help me think deeply about architecture.",
           "Deep work, shallow work and firefighting incidents.",
           "I will block two focus mornings every week for design."),
    "U3": ("Quiet mornings without meetings help me focus on the hiring plan.",
           "Planning, building and answering the support queue.",
           "I will turn off chat until lunch on Tuesdays."),
}
SECRETS = (BOT_TOKEN, USER_TOKEN, CLIENT_SECRET, SECRET_KEY, LLM_KEY, slack_requests.SIGNING_SECRET)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def morning(module_database_url, tmp_path_factory):
    """Everything happens once per backend; the tests read what it left."""
    logs = tmp_path_factory.mktemp("logs")
    async with FakeOpenAI() as llm, FakeSlackApi("xoxb-not-given-to-the-app", client_secret=CLIENT_SECRET) as slack:
        for uid, name in (("U1", "Lotte Peeters"), ("U2", "Ann Smith"), ("U3", "Bart Jansens")):
            slack.add_user(uid, name.split()[0].lower(), name)
        slack.add_channel("C1", "team-a", members=["U1", "U2", "U3"])
        settings = dict(UNMEET_SLACK_CLIENT_ID=slack.client_id, UNMEET_SLACK_CLIENT_SECRET=CLIENT_SECRET,
                        SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET, UNMEET_SECRET_KEY=SECRET_KEY,
                        OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY=LLM_KEY, UNMEET_LLM_MODEL="fake-model",
                        UNMEET_LLM_TIMEOUT_SECONDS="5", UNMEET_LOG_FORMAT="json")
        async with serving(slack, module_database_url, logs, **settings) as a, \
                serving(slack, module_database_url, logs, **settings) as b:
            await install(a, "T1", "U1", BOT_TOKEN)
            slack.fail_next("chat.postMessage", 429, retry_after=1)  # the first post waits, then goes out
            round_id = await share(b, "C1", title=TITLE)
            for user, words in ANSWERS.items():
                await answer(a if user == "U2" else b, user, round_id, "C1", words)
            await slack.wait_for(lambda: len(replies(a, "C1")) == 2, timeout=15)
            seen = len(slack.ephemerals)
            await a.press("U1", round_id, "C1", action="llm.summarise_now")
            await ephemeral_to(a, "U1", seen, "Summary of the round")
            await connect(a, "U1", USER_TOKEN)
            await focus(b, "U1", f"45m {FOCUS_TEXT}")
            await slack.wait_for(lambda: slack.calls_to("users.profile.set"), timeout=10)
            closing = await a.run_due(deadline_instant(DEADLINE, TZ) + timedelta(minutes=1))
            thread = await slack.wait_for(
                lambda: [m for m in replies(a, "C1") if "Summary of the round" in texts(m)], timeout=10)
            assert "Written by AI (fake-model)" in texts(thread[0])
            assert llm.calls >= 2
            # The 429 lands on whichever post goes out first, often a DM that nothing above waits for:
            # scrape once both DMs are done (its retry waits Retry-After, a second).
            deadline = asyncio.get_running_loop().time() + 10
            while True:
                scraped = [await _get(server, "/metrics") for server in (a, b)]
                dms = value(samples(scraped), "unmeet_jobs_total", kind="round.dm", outcome="done")
                if dms >= 2 or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.1)
            yield {"logs": [a.log(), b.log(), closing], "metrics": scraped, "slack": slack}


async def _get(server, path: str) -> str:
    async with server.session.get(server.url + path) as response:
        assert response.status == 200
        return await response.text()


def lines(morning) -> list[dict]:
    found = []
    for text in morning["logs"]:
        for line in text.splitlines():
            if line.strip().startswith("ran ") and "due job" in line:  # run-due's own result on stdout
                continue
            found.append(json.loads(line))  # every line is one JSON object
    return found


async def test_log_lines_are_json_with_a_request_or_job_id(morning):
    records = lines(morning)
    assert {"time", "level", "logger", "message"} <= set(records[0])
    by_message = {r["message"]: r for r in records}
    stored = next(r for m, r in by_message.items() if m.startswith("focus connect: stored a user token"))
    assert re.fullmatch(r"[0-9a-f]{6}-\d+", stored["request_id"])
    assert any("job_id" in r and r["job_id"].startswith("round.close#") for r in records)
    # one line per platform request, which its other lines share (Bolt's listeners run after the ack, in
    # tasks of their own, and keep it)
    requests = [r for r in records if r["logger"] == "unmeet.http"]
    assert {r["message"].rsplit(" ", 3)[0] for r in requests} >= {
        "POST slack_events command", "POST slack_events view_submission", "POST slack_events block_actions",
        "GET slack_install none", "GET slack_oauth none"}
    assert all(re.fullmatch(r"[0-9a-f]{6}-\d+", r["request_id"]) for r in requests)
    assert stored["request_id"] in {r["request_id"] for r in requests}
    assert len({r["request_id"] for r in requests}) == len(requests)


async def test_logs_hold_no_token_no_secret_and_no_text_people_wrote(morning):
    everything = "\n".join(morning["logs"])
    for secret in SECRETS:
        assert secret not in everything, secret
    assert not re.search(r"xox[bpae]-|Bearer\s", everything), re.search(r".{80}(xox[bpae]-|Bearer\s).{80}", everything)
    written = [TITLE, FOCUS_TEXT] + [text for words in ANSWERS.values() for text in words]
    for text in written:
        assert text not in everything, text
        assert text[:24] not in everything, text  # nor a piece of it


def samples(texts: list[str]) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value, summed over the processes scraped."""
    total: dict[tuple[str, tuple], float] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                total[key] = total.get(key, 0.0) + sample.value
    return total


def value(found, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_requests_jobs_platform_calls_and_the_model(morning):
    found = samples(morning["metrics"])
    for kind in ("command", "view_submission", "block_actions"):
        assert value(found, "unmeet_requests_total", endpoint="slack_events", kind=kind, status="200") >= 1, kind
        assert value(found, "unmeet_ack_seconds_count", endpoint="slack_events", kind=kind) >= 1, kind
    assert value(found, "unmeet_requests_total", endpoint="slack_install", kind="none", status="302") == 1
    assert value(found, "unmeet_requests_total", endpoint="slack_oauth", kind="none", status="200") >= 2
    assert value(found, "unmeet_requests_total", endpoint="slack_oauth", kind="none", status="400") == 1
    acked = sum(v for (name, labels), v in found.items() if name == "unmeet_ack_seconds_bucket"
                and dict(labels)["le"] == "15.0" and dict(labels)["endpoint"] == "slack_events")
    assert acked == sum(v for (name, _), v in found.items() if name == "unmeet_ack_seconds_count"
                        and dict(_).get("endpoint") == "slack_events")  # the buckets hold every ack

    assert value(found, "unmeet_jobs_total", kind="round.dm", outcome="done") == 2
    assert value(found, "unmeet_job_lag_seconds_count", kind="round.dm") >= 2  # a run each (a retry adds one)
    assert value(found, "unmeet_outbox_jobs", kind="round.close", state="scheduled") == 0  # closed by run-due
    slack = morning["slack"]
    assert value(found, "unmeet_platform_calls_total", platform="slack", method="chat.postMessage") >= 3
    assert value(found, "unmeet_platform_rate_limited_total", platform="slack", method="chat.postMessage") >= 1
    assert value(found, "unmeet_platform_calls_total", platform="slack", method="views.open") == len(
        slack.calls_to("views.open"))
    # with the person's own token too (the status set at the start; `jobs run-due` clears it at the end)
    assert value(found, "unmeet_platform_calls_total", platform="slack", method="users.profile.set") == 1

    assert value(found, "unmeet_llm_calls_total", task="summarize_round", outcome="ok") == 1  # summarise now
    assert value(found, "unmeet_llm_tokens_total", task="summarize_round", direction="in") > 100
    assert value(found, "unmeet_llm_tokens_total", task="summarize_round", direction="out") > 10


async def test_no_label_carries_an_id_or_text(morning):
    found = samples(morning["metrics"])
    labels = {v for _, pairs in found for _, v in pairs}
    people_and_places = {"U1", "U2", "U3", "C1", "T1", "team-a", "Lotte Peeters", "Ann Smith"}
    assert not labels & people_and_places
    assert all(re.fullmatch(r"[A-Za-z0-9_./+-]{1,40}", v) for v in labels), sorted(labels)
    assert not [v for v in labels if re.fullmatch(r"[UCTDGWE][A-Z0-9]{2,}", v)], sorted(labels)  # Slack ids
