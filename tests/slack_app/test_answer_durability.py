"""Nothing typed is lost: once the answer form closes, the answers are in the database, even if the
`unmeet serve` that closed it dies before storing them; and while the database can't take them, the
form stays open with what was typed. Real processes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from core.persistence.tables import answers, jobs
from tests.fakes import slack_requests
from tests.fakes.processes import run_due
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving, start_server, stop_server
from tests.slack_app.test_round import notices_to, replies, seed, share, texts

SETTINGS = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET)
WORDS = {"a1": "What I kept", "a2": "What survived", "a3": "What I will try"}


async def test_answers_acknowledged_by_a_server_killed_right_after_are_stored_by_another_process(
        database_url, tmp_path):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        seed(slack)
        async with serving(slack, database_url, tmp_path, **SETTINGS) as first:
            round_id = await share(first, "C1", title="Kept")
            opened = len(slack.calls_to("views.open"))
            status, _ = await first.press("U2", round_id, "C1")
            assert status == 200
            await slack.wait_for(lambda: len(slack.calls_to("views.open")) > opened)
            form = slack.calls_to("views.open")[-1].params["view"]

        # A server whose worker isn't running: it closes the form, and is killed before anything else.
        second = await start_server(slack, database_url, tmp_path, worker=False, **SETTINGS)
        try:
            status, body = await second.submit("U2", form, WORDS)
            assert status == 200 and body in (None, {"response_action": "clear"}), body
            second.process.kill()
            await second.process.wait()
            async with second.db.transaction() as conn:
                assert (await conn.execute(sa.select(sa.func.count()).select_from(answers))).scalar_one() == 0
                [(kind, payload)] = (await conn.execute(sa.select(jobs.c.kind, jobs.c.payload).where(
                    jobs.c.kind == "round.store_answer"))).all()
            assert payload["texts"] == list(WORDS.values())
        finally:
            await stop_server(second)

        await run_due(second.env, datetime.now(timezone.utc))  # any process's worker, later
        async with second.db.transaction() as conn:
            stored = (await conn.execute(sa.select(answers.c.texts))).scalars().all()
        await second.db.dispose()
        assert stored == [list(WORDS.values())]
        [reply] = [m for m in replies(second, "C1") if "What I kept" in texts(m)]
        assert "What survived" in texts(reply)
        [thanks] = notices_to(second, "U2")
        assert thanks.params["channel"] == "C1" and "Thank you" in texts(thanks.params)


async def test_answers_the_database_cannot_take_keep_the_form_open_with_what_was_typed(database_url, tmp_path):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        seed(slack)
        async with serving(slack, database_url, tmp_path, **SETTINGS) as server:
            round_id = await share(server, "C1", title="Kept open")
            opened = len(slack.calls_to("views.open"))
            await server.press("U3", round_id, "C1")
            await slack.wait_for(lambda: len(slack.calls_to("views.open")) > opened)
            form = slack.calls_to("views.open")[-1].params["view"]

            async with server.db.transaction() as conn:  # the queue's table gone for a moment
                await conn.execute(sa.text("ALTER TABLE jobs RENAME TO jobs_away"))
            try:
                status, body = await server.submit("U3", form, WORDS)
            finally:
                async with server.db.transaction() as conn:
                    await conn.execute(sa.text("ALTER TABLE jobs_away RENAME TO jobs"))
            # Slack keeps a form that answers with errors open, with every value as typed
            assert status == 200 and body == {"response_action": "errors", "errors": {
                "a1": "Something went wrong on our side. Please try again in a minute."}}, body
            assert "a view submission failed" in server.log()

            told = len(notices_to(server, "U3"))
            status, body = await server.submit("U3", form, WORDS)
            assert status == 200 and body in (None, {"response_action": "clear"}), body
            await slack.wait_for(lambda: len(notices_to(server, "U3")) > told, timeout=15)
            async with server.db.transaction() as conn:
                assert (await conn.execute(sa.select(answers.c.texts))).scalars().all() == [list(WORDS.values())]
