"""The stuck log's services against a real database (SQLite and PostgreSQL), the in-memory messenger, a
fixed clock and the real worker: a ten-working-day log across a weekend and a DST change with entries
from four people, the end-of-day question once a day (held by focus time, dropped past the day), the
report's figures without names or text, adopting its proposal, the agreement's action, personal data;
and every message rendered to Block Kit and Adaptive Card 1.5."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from slack_sdk.models.blocks import Block as SlackBlock

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.domain.focus import Start
from core.domain.refs import WorkspaceRef
from core.domain.stuck import EntryInput
from core.messages import stuck as views
from core.messages.i18n import translator
from core.messages.model import Actions, Form, Message
from core.persistence import agreements as agreement_store
from core.persistence import repository as repo
from core.persistence.db import Database
from core.persistence.stuck import EntryRow
from core.persistence.tables import jobs
from core.persistence.tables_stuck import stuck_entries, stuck_logs
from core.ports import FixedClock
from core.services import agreements, focus, privacy, stuck
from slack_app import render as slack_render
from teams_app import render as teams_render
from tests.fakes.cards import assert_valid_card
from tests.fakes.messenger import FakeMessenger, text_of
from tests.fakes.slack_api import block_kit_problems

WS = WorkspaceRef("slack", "T1")
UTC = timezone.utc
TUESDAY = datetime(2026, 3, 24, 9, tzinfo=UTC)  # 10:00 in Brussels; summer time starts on Sunday 29 March
LAST_DAY = date(2026, 4, 6)  # ten working days: 24-27 March, 30 March-3 April, 6 April


@pytest.fixture
async def world(database_url):
    clock = FixedClock(TUESDAY)
    deps = build_deps(Settings(database_url=database_url), clock=clock, db=Database(database_url))
    messenger = FakeMessenger()
    deps.messengers["slack"] = messenger
    people = {"lea": messenger.add_person(WS, "ULEA", "Lea", tz="Europe/Brussels", locale="nl-BE"),
              "ann": messenger.add_person(WS, "UANN", "Ann", tz="Europe/Brussels", locale="en-GB"),
              "bob": messenger.add_person(WS, "UBOB", "Bob", tz="Europe/Brussels", locale="en-GB"),
              "kai": messenger.add_person(WS, "UKAI", "Kai", tz="America/New_York", locale="en-US")}
    messenger.channels["C1"] = ["ULEA", "UANN", "UBOB", "UKAI"]
    for person in people.values():
        await stuck.known_person(deps, person)
    yield deps, messenger, build_worker(deps), clock, people
    await deps.db.dispose()


def entry(what: str, kind: str = "budget", knew: str = "no", waited: str = "day", **more) -> EntryInput:
    return EntryInput(what=what, kind=kind, knew=knew, waited=waited, **more)


async def record(deps, person, what: str, **values) -> stuck.Done:
    form = await stuck.stuck_command(deps, person=person, channel_id="C1", text=what)
    assert isinstance(form, Form) and form.inputs[0].initial == what
    result = await stuck.submit_entry(deps, person=person, metadata=form.metadata, data=entry(what, **values))
    assert isinstance(result, stuck.Done), getattr(result, "form", None) and result.form.errors
    return result


def nudges(messenger: FakeMessenger, user: str) -> list[str]:
    return [s.key for s in messenger.dms(user) if (s.key or "").startswith("stuck-nudge:")]


async def test_a_ten_day_log_across_a_weekend_and_dst_with_four_people(world):
    deps, messenger, worker, clock, p = world
    reply = await stuck.stuck_command(deps, person=p["lea"], channel_id="C1", text="start")
    assert "10 werkdagen" in text_of(reply) and "maandag 6 april" in text_of(reply)
    again = await stuck.stuck_command(deps, person=p["ann"], channel_id="C1", text="start 5")
    assert "already runs" in text_of(again) and "Monday 6 April" in text_of(again)
    await worker.run_due()
    [announcement] = [s for s in messenger.sent if s.conversation == "C1"]
    assert "for 10 working days, Tuesday 24 March to Monday 6 April" in text_of(announcement.message)
    async with deps.db.transaction() as conn:
        queued = (await conn.execute(sa.select(jobs.c.key, jobs.c.due_at).where(jobs.c.kind == "stuck.nudge"))).all()
    assert len(queued) == 40  # four people, ten days
    due = {key: at for key, at in queued}
    lea_id = (await member_ids(deps, p))["lea"]
    kai_id = (await member_ids(deps, p))["kai"]
    assert due[f"stuck-nudge:1:{lea_id}:2026-03-24"] == datetime(2026, 3, 24, 15, 30, tzinfo=UTC)
    assert due[f"stuck-nudge:1:{lea_id}:2026-03-30"] == datetime(2026, 3, 30, 14, 30, tzinfo=UTC)  # summer time
    assert due[f"stuck-nudge:1:{kai_id}:2026-03-24"] == datetime(2026, 3, 24, 20, 30, tzinfo=UTC)  # New York

    # Day 1: Ann notes one (twice: a second submit) and a 5,000-character one comes back with its text.
    await record(deps, p["ann"], "The price for the pilot customer")
    form = await stuck.stuck_command(deps, person=p["ann"], channel_id="C1", text="The price for the pilot customer")
    second = await stuck.submit_entry(deps, person=p["ann"], metadata=form.metadata,
                                      data=entry("The price for the pilot customer"))
    assert "noted already" in text_of(second.message)
    long = await stuck.submit_entry(deps, person=p["bob"], metadata=form.metadata, data=entry("w" * 5000))
    assert isinstance(long, stuck.Invalid) and "under 1000 characters (it has 5000)" in long.form.errors["what"]
    assert long.form.inputs[0].initial == "w" * 5000
    other = await stuck.submit_entry(deps, person=p["bob"], metadata=form.metadata,
                                     data=entry("Who books the venue", kind="other"))
    assert isinstance(other, stuck.Invalid) and set(other.form.errors) == {"other"}

    # Bob is in focus time across 16:30: his question waits for the end, still inside his working day.
    clock.current = datetime(2026, 3, 24, 15, 0, tzinfo=UTC)
    await focus.start_focus(deps, person=p["bob"], start=Start(45))
    clock.current = datetime(2026, 3, 24, 15, 30, tzinfo=UTC)
    await worker.run_due()
    assert len(nudges(messenger, "ULEA")) == 1 and nudges(messenger, "UANN") == []  # Ann noted one today
    assert nudges(messenger, "UBOB") == []
    clock.current = datetime(2026, 3, 24, 15, 46, tzinfo=UTC)
    await worker.run_due()
    assert len(nudges(messenger, "UBOB")) == 1
    [dm] = messenger.dms("ULEA")
    assert "Zat je vandaag vast" in text_of(dm.message)
    [_no, yes] = [b for block in dm.message.blocks if isinstance(block, Actions) for b in block.buttons]
    assert "Fijn om te horen" in text_of(await stuck.not_stuck(deps, person=p["lea"]))
    opened = await stuck.entry_form(deps, person=p["lea"], log_value=yes.value)
    assert isinstance(opened, Form) and opened.metadata == "1"

    # Day 2: Bob (technical, knew who), Kai (budget, unclear), Lea (scope, an hour) note one each.
    clock.current = datetime(2026, 3, 25, 9, tzinfo=UTC)
    await record(deps, p["bob"], "Which database for reports", kind="technical", knew="yes", waited="hours")
    await record(deps, p["kai"], "The travel budget", kind="budget", knew="unclear", waited="longer")
    await record(deps, p["lea"], "Scope of the demo", kind="scope", knew="yes", waited="under_hour")
    status = await stuck.stuck_command(deps, person=p["ann"], channel_id="C1", text="")
    assert "Day 2 of 10" in text_of(status) and "4 stuck moments" in text_of(status)
    assert "The price for the pilot customer" in text_of(status) and "travel budget" not in text_of(status)

    # Bob's focus session on day 3 runs past five: that day's question is dropped, not sent late.
    clock.current = datetime(2026, 3, 26, 15, 0, tzinfo=UTC)
    await focus.start_focus(deps, person=p["bob"], start=Start(180))
    for day in range(13):  # every half hour of the afternoons up to the end, in both zones
        for step in range(15):
            clock.current = datetime(2026, 3, 25, 14, tzinfo=UTC) + timedelta(days=day, minutes=30 * step)
            await worker.run_due()
    assert len(nudges(messenger, "ULEA")) == 9  # day 2: she noted one
    assert len(nudges(messenger, "UANN")) == 9  # day 1: she noted one
    # Kai in New York: day 1's question came due when the clock jumped past his day (dropped), day 2 he
    # noted one, and on the last day the report (17:00 in Brussels) closed the log before his 16:30.
    assert [key.rsplit(":", 1)[1] for key in nudges(messenger, "UKAI")] == [
        "2026-03-26", "2026-03-27", "2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03"]
    assert len(nudges(messenger, "UBOB")) == 8  # day 2 noted, day 3 in focus past five
    for user in ("ULEA", "UANN", "UBOB", "UKAI"):
        assert len(set(nudges(messenger, user))) == len(nudges(messenger, user))

    [report] = [s for s in messenger.sent if s.conversation == "C1" and s.key == "stuck-report:1"]
    shown = text_of(report.message)
    assert "the team noted 4 stuck moments" in shown and "unknown or unclear 2 of 4 times" in shown
    for secret in ("pilot", "database", "travel", "demo", "Ann", "Bob", "Kai", "Lea"):
        assert secret not in shown
    async with deps.db.transaction() as conn:
        [closed] = (await conn.execute(sa.select(stuck_logs))).all()
    assert closed.state == "closed" and closed.report["total"] == 4
    assert [(g["kind"], g["count"], g["unknown"], g["proposal"]) for g in closed.report["groups"]] == [
        ("budget", 2, 2, "name_decider"), ("scope", 1, 0, "answer_in_a_day"),
        ("technical", 1, 0, "answer_in_a_day")]
    late = await stuck.submit_entry(deps, person=p["ann"], metadata="1", data=entry("Too late"))
    assert isinstance(late, stuck.Invalid) and "ended" in late.form.errors["what"]

    # Adopting the proposal: its lines become draft rules of the channel's agreement, once.
    [adopt] = [b for block in report.message.blocks if isinstance(block, Actions) for b in block.buttons]
    adopted = await stuck.adopt(deps, person=p["ann"], value=adopt.value)
    assert "Added 3 rules" in text_of(adopted) and "principle first" in text_of(adopted)
    assert "staat al in het ontwerp" in text_of(await stuck.adopt(deps, person=p["lea"], value=adopt.value))
    async with deps.db.transaction() as conn:
        channel = await repo.ensure_channel(conn, 1, "C1")
        agreement = await agreement_store.find_agreement(conn, channel)
        rules = [r.text for r in (await agreement_store.draft_content(conn, agreement.id)).rules]
    assert rules[0] == "Budget and spending: name one person who decides, and tell the team who."


async def member_ids(deps, p) -> dict[str, int]:
    async with deps.db.transaction() as conn:
        return {name: (await repo.find_member(conn, ref)).id for name, ref in p.items()}


async def test_someone_who_joins_the_channel_mid_log_gets_the_questions_still_to_come(world):
    deps, messenger, worker, clock, p = world
    await stuck.stuck_command(deps, person=p["lea"], channel_id="C1", text="start 3")  # Tue 24 - Thu 26 March
    await worker.run_due()
    zoe = messenger.add_person(WS, "UZOE", "Zoe", tz="Europe/Brussels", locale="en-GB")
    messenger.channels["C1"].append(zoe.id)  # she joins on the first day, after the start
    clock.current = datetime(2026, 3, 24, 15, 30, tzinfo=UTC)
    await worker.run_due()
    assert nudges(messenger, "UZOE") == [] and len(nudges(messenger, "UBOB")) == 1
    for day in (25, 26):
        clock.current = datetime(2026, 3, day, 8, tzinfo=UTC)  # 09:00: the channel is read again
        await worker.run_due()
        clock.current = datetime(2026, 3, day, 15, 30, tzinfo=UTC)
        await worker.run_due()
    zoe_id = (await member_ids(deps, {"zoe": zoe}))["zoe"]
    assert nudges(messenger, "UZOE") == [f"stuck-nudge:1:{zoe_id}:2026-03-25", f"stuck-nudge:1:{zoe_id}:2026-03-26"]
    assert len(nudges(messenger, "UBOB")) == 3  # the others: once a day, as before


async def test_the_agreements_action_starts_the_log_once(world):
    from core.domain.agreements import ActionInput, AgreementInput

    deps, messenger, worker, clock, p = world
    ids = await member_ids(deps, p)
    for _ in range(2):  # published, then published again: one log
        form = await agreements.edit_form(deps, person=p["lea"], channel_id="C1")
        data = AgreementInput(principles="Decide close to the work.", rules="", actions=(ActionInput(
            "Keep a stuck log for 5 working days", str(ids["lea"]), date(2026, 4, 10)),))
        result = await agreements.submit_agreement(deps, person=p["lea"], metadata=form.metadata, data=data)
        assert isinstance(result, agreements.Done), getattr(result, "form", None) and result.form.errors
        clock.advance(minutes=5)
    async with deps.db.transaction() as conn:
        [row] = (await conn.execute(sa.select(stuck_logs))).all()
    assert row.action_id is not None and row.started_by == ids["lea"] and len(row.days) == 5
    assert row.days[-1] == "2026-03-30"
    await worker.run_due()
    assert len([s for s in messenger.sent if s.conversation == "C1" and s.key == f"stuck-start:{row.id}"]) == 1


async def test_only_the_lead_starts_a_log_once_the_agreement_is_published(world):
    from core.domain.agreements import AgreementInput

    deps, _m, _w, _c, p = world
    form = await agreements.edit_form(deps, person=p["lea"], channel_id="C1")
    await agreements.submit_agreement(deps, person=p["lea"], metadata=form.metadata,
                                      data=AgreementInput(principles="Writing first.", rules=""))
    refused = await stuck.stuck_command(deps, person=p["ann"], channel_id="C1", text="start")
    assert "Only the lead" in text_of(refused)
    assert "loopt 3 werkdagen" in text_of(await stuck.stuck_command(deps, person=p["lea"], channel_id="C1", text="start 3"))
    bad = await stuck.stuck_command(deps, person=p["lea"], channel_id="C1", text="start 40")
    assert "1 tot 30 werkdagen" in text_of(bad)


async def test_export_erase_and_sweep(world):
    deps, _m, worker, clock, p = world
    await stuck.stuck_command(deps, person=p["lea"], channel_id="C1", text="start 2")
    await record(deps, p["ann"], "ann-secret-wait")
    await record(deps, p["bob"], "bob-secret-wait", kind="scope")
    exported = (await privacy.export_person(deps, p["ann"]))["tables"]
    assert [row["what"] for row in exported["stuck_entries"]] == ["ann-secret-wait"]
    assert "bob-secret-wait" not in json.dumps(exported) and "stuck_logs" not in exported
    assert [row["started_by"] for row in (await privacy.export_person(deps, p["lea"]))["tables"]["stuck_logs"]] \
        != []
    await privacy.erase_person(deps, p["ann"])
    await privacy.erase_person(deps, p["lea"])
    async with deps.db.transaction() as conn:
        left = [row.what for row in (await conn.execute(sa.select(stuck_entries))).all()]
        [log_row] = (await conn.execute(sa.select(stuck_logs))).all()
    assert left == ["bob-secret-wait"] and log_row.started_by is None and log_row.state == "running"
    clock.current = datetime(2026, 3, 25, 16, tzinfo=UTC)
    await worker.run_due()  # the report closes the log (Lea's questions went with her)
    clock.current = datetime(2026, 3, 25, 16, tzinfo=UTC) + timedelta(days=366)
    deleted = await privacy.sweep(deps)
    assert deleted["stuck_logs"] == 1
    async with deps.db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(stuck_entries))).scalar_one() == 0


def test_every_message_renders_on_both_platforms():
    own = [EntryRow(1, "x" * 1000, "other", "hiring", "no", "longer", "n" * 500, TUESDAY)] * 10
    figures = stuck.figures(10, [stuck.rules.Entry(k, "no", "day") for k in ("budget", "scope", "other")])
    for language in ("en", "nl"):
        t = translator(language)
        proposal = [views.proposal_line(t, g["kind"], g["proposal"]) for g in figures["groups"]]
        messages = [views.started(t, first=date(2026, 3, 24), last=LAST_DAY, days=10, shortcut=True),
                    views.started(t, first=date(2026, 3, 24), last=LAST_DAY, days=10, shortcut=False),
                    views.start_reply(t, first=date(2026, 3, 24), last=LAST_DAY, days=10),
                    views.saved(t, again=False), views.saved(t, again=True), views.nudge_dm(t, log_id=1, day=LAST_DAY),
                    views.status(t, first=date(2026, 3, 24), last=LAST_DAY, today=LAST_DAY,
                                 days=(date(2026, 3, 24),) * 10, team_count=12, own=own),
                    views.none_running(t), views.report(t, figures, proposal=proposal, drafted=True, log_id=1),
                    views.report(t, stuck.figures(10, []), proposal=[], drafted=False, log_id=1),
                    views.adopted(t, 3, needs_principle=True), Message(tuple(views.digest_blocks(t, 4)), "d")]
        for message in messages:
            payload = slack_render.message(message)
            assert block_kit_problems(payload, "message") == [], message
            for block in payload["blocks"]:
                SlackBlock.parse(block).validate_json()
            assert_valid_card(teams_render.message_card(message))
        form = views.form(t, log_id=1, data=entry("z" * 3000, other="o" * 3000, note="n" * 3000),
                          errors={"what": "bad"})
        assert block_kit_problems(slack_render.modal(form), "view") == []
        assert_valid_card(teams_render.form_card(form))


async def test_with_the_model_on_the_report_proposes_its_rules_from_the_counts_only(database_url):
    from tests.fakes.openai_server import FakeOpenAI

    async with FakeOpenAI() as server:
        settings = Settings(openai_base_url=server.base_url, openai_api_key="", unmeet_llm_model="fake-model",
                            unmeet_llm_timeout_seconds=2.0, database_url=database_url)
        clock = FixedClock(TUESDAY)
        deps = build_deps(settings, clock=clock, db=Database(database_url))
        messenger = FakeMessenger()
        deps.messengers["slack"] = messenger
        ann = messenger.add_person(WS, "UANN", "Ann", tz="Europe/Brussels", locale="en-GB")
        messenger.channels["C1"] = ["UANN"]
        worker = build_worker(deps)
        try:
            await stuck.stuck_command(deps, person=ann, channel_id="C1", text="start 1")
            await record(deps, ann, "ann-secret-wait")
            clock.current = datetime(2026, 3, 24, 16, 1, tzinfo=UTC)
            await worker.run_due()
        finally:
            await deps.close()
        [call] = server.prompts("decision_rights/v1")
    assert "ann-secret-wait" not in call.text and "Ann" not in call.text
    [report] = [s for s in messenger.sent if s.key == "stuck-report:1"]
    shown = text_of(report.message)
    assert "Budget and spending: For budget, the team lead decides within a day" in shown
    assert "Drafted by the AI model" in shown and "<!here>" not in shown and "lunch" not in shown


async def test_the_digest_counts_the_running_logs_stuck_moments_team_level(world):
    from core.domain.digest import week_of
    from core.messages.digest import digest_message
    from core.persistence import digest as digest_store
    from core.services.digest import build_digest

    deps, _m, worker, clock, p = world

    async def built():
        async with deps.db.transaction() as conn:
            context = await digest_store.channel_context(conn, await repo.ensure_channel(conn, 1, "C1"))
            return await build_digest(conn, context, week_of(clock.now(), context.tz), clock.now())

    assert (await built()).stuck_count is None
    await stuck.stuck_command(deps, person=p["lea"], channel_id="C1", text="start 2")
    assert (await built()).stuck_count == 0
    await record(deps, p["ann"], "ann-secret-wait")
    await record(deps, p["bob"], "bob-secret-wait")
    digest = await built()
    assert digest.stuck_count == 2
    for language, line in (("en", "2 stuck moments noted so far."), ("nl", "tot nu toe 2 vastloopmomenten")):
        shown = text_of(digest_message(translator(language), digest, chart=False))
        assert line in shown and "secret" not in shown and "Ann" not in shown
    clock.current = datetime(2026, 3, 25, 16, 1, tzinfo=UTC)
    await worker.run_due()  # the log ends: no line any more
    assert (await built()).stuck_count is None


async def test_once_the_agreement_is_published_only_its_lead_adopts_and_only_once(world):
    import asyncio

    from core.domain.agreements import AgreementInput

    deps, _m, worker, clock, p = world
    form = await agreements.edit_form(deps, person=p["lea"], channel_id="C1")
    await agreements.submit_agreement(deps, person=p["lea"], metadata=form.metadata,
                                      data=AgreementInput(principles="Decide close to the work.", rules=""))
    await stuck.stuck_command(deps, person=p["lea"], channel_id="C1", text="start 1")
    await record(deps, p["ann"], "ann-secret-wait")
    clock.current = datetime(2026, 3, 24, 16, 1, tzinfo=UTC)
    await worker.run_due()
    refused = await stuck.adopt(deps, person=p["ann"], value="1")
    assert "Only the lead" in text_of(refused)
    results = await asyncio.gather(*(stuck.adopt(deps, person=p["lea"], value="1") for _ in range(2)))
    assert sorted("staat al" in text_of(r) for r in results) == [False, True]
    assert any("1 regel toegevoegd" in text_of(r) and "Pas ze aan" in text_of(r) for r in results)
