"""The One Thing's services against a real database (SQLite and PostgreSQL), the in-memory messenger, a
fixed clock and the real worker: record, replace, history, the check a week later, its answers, sharing
with the digest, personal data; and every message rendered to Block Kit and Adaptive Card 1.5."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from slack_sdk.models.blocks import Block as SlackBlock

from core.bootstrap import build_worker
from core.config import Settings
from core.domain import one_thing as rules
from core.domain.digest import week_of
from core.domain.focus import Start
from core.domain.refs import WorkspaceRef
from core.jobs import queue
from core.llm.offline import OfflineSummariser
from core.messages import one_thing as views
from core.messages.digest import digest_message
from core.messages.i18n import translator
from core.messages.model import Form, Header, Message
from core.persistence import digest as digest_store
from core.persistence.tables import jobs
from core.persistence.tables_one_thing import one_things
from core.ports import FixedClock
from core.services import focus, home, one_thing, privacy
from core.services.deps import Deps
from core.services.digest import build_digest
from core.services.nudges import NUDGE_KINDS
from slack_app import render as slack_render
from teams_app import render as teams_render
from tests.digest.seed import World as DigestWorld
from tests.fakes.cards import assert_valid_card
from tests.fakes.messenger import FakeMessenger, buttons, text_of
from tests.fakes.slack_api import block_kit_problems

WS = WorkspaceRef("slack", "T1")
UTC = timezone.utc
TUESDAY = datetime(2026, 3, 3, 9, tzinfo=UTC)  # 10:00 in Brussels


@pytest.fixture
async def world(db):
    messenger = FakeMessenger()
    ann = messenger.add_person(WS, "U1", "Ann", tz="Europe/Brussels", locale="en-GB")
    eva = messenger.add_person(WS, "U5", "Eva", tz="Europe/Brussels", locale="nl-BE")
    kai = messenger.add_person(WS, "U6", "Kai", tz="America/New_York", locale="en-US")
    clock = FixedClock(TUESDAY)
    deps = Deps(db=db, clock=clock, settings=Settings(slack_signing_secret="s", unmeet_retention_days=90),
                summariser=OfflineSummariser(), messengers={"slack": messenger})

    class W:
        pass

    w = W()
    w.deps, w.messenger, w.clock, w.worker, w.db = deps, messenger, clock, build_worker(deps), db
    w.ann, w.eva, w.kai = ann, eva, kai
    return w


async def rows(db) -> list:
    async with db.transaction() as conn:
        return (await conn.execute(sa.select(one_things).order_by(one_things.c.id))).all()


async def check_job(db, one_thing_id: int):
    async with db.transaction() as conn:
        return (await conn.execute(sa.select(jobs).where(jobs.c.key == f"onething-check:{one_thing_id}"))).one()


def checks_sent(messenger: FakeMessenger, user: str) -> list:
    return [s for s in messenger.dms(user) if (s.key or "").startswith("onething-check:")]


async def test_record_replace_and_history(world):
    reply = await one_thing.one_thing_command(world.deps, person=world.ann, text="Ask before assuming")
    assert "Ask before assuming" in text_of(reply) and "Only you see it" in text_of(reply)
    [first] = await rows(world.db)
    assert (first.text, first.shared, first.replaced_at) == ("Ask before assuming", False, None)
    job = await check_job(world.db, first.id)
    assert job.due_at == rules.check_due(TUESDAY, "Europe/Brussels") == TUESDAY + timedelta(days=7)
    assert job.payload == {"one_thing": first.id, "member": first.member_id}

    world.clock.advance(days=2)
    reply = await one_thing.one_thing_command(world.deps, person=world.ann, text="Protect two mornings #share")
    assert "replaces your earlier One Thing" in text_of(reply) and "weekly digest" in text_of(reply)
    old, new = await rows(world.db)
    assert old.replaced_at == TUESDAY + timedelta(days=2) and new.replaced_at is None and new.shared

    shown = await one_thing.one_thing_command(world.deps, person=world.ann, text="")
    assert "Protect two mornings" in text_of(shown) and "Before" in text_of(shown)
    assert "Ask before assuming" in text_of(shown)
    assert [b.action for b in buttons(shown)] == [views.RECORD_ACTION]

    view = await home.home(world.deps, person=world.ann)
    headers = [b.text for b in view.blocks if isinstance(b, Header)]
    assert "Your One Thing" in headers
    assert "Protect two mornings" in text_of(view) and "Ask before assuming" in text_of(view)
    assert views.RECORD_ACTION in [b.action for b in buttons(view)]


async def test_the_same_text_again_adds_no_row_and_share_words_change_only_sharing(world):
    await one_thing.save_one_thing(world.deps, person=world.ann, text="Listen first", share=None)
    again = await one_thing.submit_form(world.deps, person=world.ann, text="  Listen first ", share="private")
    assert "already your One Thing" in text_of(again.message)
    shared = await one_thing.one_thing_command(world.deps, person=world.ann, text="share")
    assert "now shared" in text_of(shared)
    same_tag = await one_thing.one_thing_command(world.deps, person=world.ann, text="Listen first #share")
    assert "already your One Thing" in text_of(same_tag)
    private = await one_thing.one_thing_command(world.deps, person=world.ann, text="unshare")
    assert "private again" in text_of(private)
    [row] = await rows(world.db)
    assert row.shared is False
    nothing = await one_thing.one_thing_command(world.deps, person=world.kai, text="share")
    assert "no One Thing yet" in text_of(nothing)


@pytest.mark.parametrize("typed, sentence", [
    ("x" * 501, "under 500 characters (it has 501)"),
])
async def test_too_long_comes_back_as_the_form_with_every_character(world, typed, sentence):
    result = await one_thing.one_thing_command(world.deps, person=world.ann, text=typed + " #share")
    assert isinstance(result, Form) and sentence in result.errors["text"]
    assert result.inputs[0].initial == typed and result.inputs[1].initial == views.SHARED
    empty = await one_thing.submit_form(world.deps, person=world.ann, text="   ", share="shared")
    assert isinstance(empty, one_thing.Invalid) and empty.form.errors["text"] == "Please fill this in."
    assert await rows(world.db) == []


async def test_the_check_a_week_later_only_about_the_current_one(world):
    await one_thing.one_thing_command(world.deps, person=world.ann, text="First idea")
    world.clock.advance(days=1)  # Wednesday
    await one_thing.one_thing_command(world.deps, person=world.ann, text="Second idea")
    first, second = await rows(world.db)
    world.clock.current = TUESDAY + timedelta(days=7)  # the first one's check is due: it was replaced
    await world.worker.run_due()
    assert checks_sent(world.messenger, "U1") == []
    assert (await check_job(world.db, first.id)).status == queue.DONE
    world.clock.current = TUESDAY + timedelta(days=8) - timedelta(seconds=1)
    await world.worker.run_due()
    assert checks_sent(world.messenger, "U1") == []
    world.clock.current = TUESDAY + timedelta(days=8)
    await world.worker.run_due()
    [sent] = checks_sent(world.messenger, "U1")
    assert sent.key == f"onething-check:{second.id}" and "Second idea" in text_of(sent.message)
    assert [b.value for b in buttons(sent.message)] == [f"{second.id}:yes", f"{second.id}:partly",
                                                         f"{second.id}:dropped"]
    world.clock.advance(hours=1)
    await world.worker.run_due()
    assert len(checks_sent(world.messenger, "U1")) == 1  # once


async def test_the_check_waits_for_focus_time_to_end(world):
    await one_thing.one_thing_command(world.deps, person=world.ann, text="Fewer meetings")
    [row] = await rows(world.db)
    world.clock.current = TUESDAY + timedelta(days=7) - timedelta(minutes=10)
    await focus.start_focus(world.deps, person=world.ann, start=Start(60))  # until 10:50 local
    world.clock.current = TUESDAY + timedelta(days=7)
    await world.worker.run_due()
    assert checks_sent(world.messenger, "U1") == []
    assert (await check_job(world.db, row.id)).due_at == TUESDAY + timedelta(days=7, minutes=50)
    world.clock.current = TUESDAY + timedelta(days=7, minutes=50)
    await world.worker.run_due()
    assert len(checks_sent(world.messenger, "U1")) == 1


async def test_a_focus_session_stopped_early_lets_the_held_check_go_at_once(world):
    assert one_thing.CHECK_KIND in NUDGE_KINDS
    await one_thing.one_thing_command(world.deps, person=world.ann, text="Fewer meetings")
    world.clock.current = TUESDAY + timedelta(days=7) - timedelta(minutes=10)
    await focus.start_focus(world.deps, person=world.ann, start=Start(60))
    world.clock.current = TUESDAY + timedelta(days=7)
    await world.worker.run_due()
    assert checks_sent(world.messenger, "U1") == []
    world.clock.advance(minutes=5)
    await focus.stop_focus(world.deps, person=world.ann)
    await world.worker.run_due()
    assert len(checks_sent(world.messenger, "U1")) == 1


async def test_a_check_that_would_land_after_work_waits_for_the_next_working_morning(world):
    await one_thing.one_thing_command(world.deps, person=world.kai, text="Decide in writing")  # 04:00 in New York
    [row] = await rows(world.db)
    due = (await check_job(world.db, row.id)).due_at
    assert due == datetime(2026, 3, 10, 13, tzinfo=UTC)  # Tuesday 09:00 in New York (EDT since 8 March)
    # Kai moved to Tokyo meanwhile: at that moment it is 22:00 there, so the check waits for 09:00 there.
    async with world.db.transaction() as conn:
        await conn.execute(sa.text("UPDATE members SET tz = 'Asia/Tokyo' WHERE external_id = 'U6'"))
    world.clock.current = due
    await world.worker.run_due()
    assert checks_sent(world.messenger, "U6") == []
    world.clock.current = datetime(2026, 3, 11, 0, tzinfo=UTC)
    await world.worker.run_due()
    assert len(checks_sent(world.messenger, "U6")) == 1


async def test_answering_the_check_and_stale_buttons(world):
    await one_thing.one_thing_command(world.deps, person=world.ann, text="Say no kindly")
    [row] = await rows(world.db)
    form = await one_thing.check_form(world.deps, person=world.ann, value=f"{row.id}:partly")
    assert isinstance(form, Form) and form.inputs[0].initial == "partly" and "Say no kindly" in text_of(form)
    too_long = await one_thing.answer_check(world.deps, person=world.ann, one_thing_id=row.id, answer="partly",
                                            note="n" * 501)
    assert "under 500 characters" in too_long.form.errors["note"] and too_long.form.inputs[1].initial == "n" * 501
    done = await one_thing.answer_check(world.deps, person=world.ann, one_thing_id=row.id, answer="partly",
                                        note="Mornings work, afternoons don't")
    assert "Thanks, noted: Partly" in text_of(done.message)
    again = await one_thing.answer_check(world.deps, person=world.ann, one_thing_id=row.id, answer="dropped", note="")
    assert "Updated: Dropped" in text_of(again.message) and views.RECORD_ACTION in [b.action for b in
                                                                                   buttons(again.message)]
    [row] = await rows(world.db)
    assert (row.check_answer, row.check_note) == ("dropped", None)

    # Someone else's id, a made-up one, a malformed value: the same polite sentence, nothing stored.
    for value in (f"{row.id}:yes", "999999:yes", "nonsense"):
        person = world.eva if value.startswith(str(row.id)) else world.ann
        stale = await one_thing.check_form(world.deps, person=person, value=value)
        assert isinstance(stale, Message) and ("no longer stored" in text_of(stale) or
                                               "niet meer bewaard" in text_of(stale))
    await one_thing.one_thing_command(world.deps, person=world.ann, text="A newer idea")
    replaced = await one_thing.check_form(world.deps, person=world.ann, value=f"{row.id}:yes")
    assert "newer One Thing" in text_of(replaced)
    kept = await one_thing.answer_check(world.deps, person=world.ann, one_thing_id=row.id, answer="yes",
                                        note="what I typed")
    assert "newer One Thing" in kept.form.errors["answer"] and kept.form.inputs[1].initial == "what I typed"


async def test_dutch(world):
    reply = await one_thing.one_thing_command(world.deps, person=world.eva, text="Eerst vragen #deel")
    assert "Je Eén Ding" in text_of(reply) and "weekoverzicht" in text_of(reply)
    too_long = await one_thing.one_thing_command(world.deps, person=world.eva, text="x" * 600)
    assert "onder 500 tekens (het heeft er 600)" in too_long.errors["text"]
    [row] = await rows(world.db)
    world.clock.current = TUESDAY + timedelta(days=7)
    await world.worker.run_due()
    [sent] = checks_sent(world.messenger, "U5")
    assert "Doe je het nog?" in text_of(sent.message)
    assert [b.label for b in buttons(sent.message)] == ["Ja", "Gedeeltelijk", "Gestopt"]
    done = await one_thing.answer_check(world.deps, person=world.eva, one_thing_id=row.id, answer="yes", note="")
    assert "Dank je, genoteerd: Ja" in text_of(done.message)


async def test_shared_one_things_in_the_teams_digest_and_unshared_ones_nowhere(world):
    async with world.db.transaction() as conn:
        seed = await DigestWorld(conn, now=TUESDAY - timedelta(days=1)).setup()
        team = [await seed.member(uid, name) for uid, name in (("U1", "Ann"), ("U5", "Eva"), ("U6", "Kai"))]
        await seed.round("Round", created=TUESDAY - timedelta(days=1), deadline=TUESDAY + timedelta(days=3),
                         asked=team)
    await one_thing.one_thing_command(world.deps, person=world.ann, text="Ann's old shared idea #share")
    await one_thing.one_thing_command(world.deps, person=world.ann, text="Ann's current idea #share")
    await one_thing.one_thing_command(world.deps, person=world.eva, text="Eva's private idea")
    await one_thing.one_thing_command(world.deps, person=world.kai, text="<!channel> Kai's idea #share")
    world.clock.advance(hours=1)
    async with world.db.transaction() as conn:
        context = await digest_store.channel_context(conn, seed.channel_id)
        digest = await build_digest(conn, context, week_of(world.clock.now(), context.tz), world.clock.now())
    assert digest.one_things == ("Ann's current idea", "<!channel> Kai's idea")
    for language in ("en", "nl"):
        message = digest_message(translator(language), digest, chart=False)
        shown = text_of(message)
        assert "Ann's current idea" in shown and "Kai's idea" in shown
        assert "old shared idea" not in shown and "private idea" not in shown
        assert "Ann" not in shown.replace("Ann's current idea", "")  # no names
        blocks = slack_render.message(message)["blocks"]
        assert "<!channel>" not in str(blocks) and "&lt;!channel&gt;" in str(blocks)
        assert block_kit_problems({"blocks": blocks}, "message") == []
        assert_valid_card(teams_render.message_card(message))
    assert "Eén Dingen die het team deelt" in text_of(digest_message(translator("nl"), digest, chart=False))
    await one_thing.one_thing_command(world.deps, person=world.kai, text="unshare")
    async with world.db.transaction() as conn:
        digest = await build_digest(conn, context, week_of(world.clock.now(), context.tz), world.clock.now())
    assert digest.one_things == ("Ann's current idea",)


async def test_export_erase_and_sweep_cover_one_things(world):
    await one_thing.one_thing_command(world.deps, person=world.ann, text="ann-secret-idea")
    await one_thing.one_thing_command(world.deps, person=world.eva, text="eva-idea")
    exported = await privacy.export_person(world.deps, world.ann)
    assert [r["text"] for r in exported["tables"]["one_things"]] == ["ann-secret-idea"]
    assert any(r["key"].startswith("onething-check:") for r in exported["tables"]["jobs"])
    assert "eva-idea" not in str(exported)
    [ann_row, eva_row] = await rows(world.db)
    erased = await privacy.erase_person(world.deps, world.ann)
    assert erased.rows["one_things"] == 1
    assert "one_things" not in (await privacy.export_person(world.deps, world.ann))["tables"]
    async with world.db.transaction() as conn:
        left = (await conn.execute(sa.select(jobs.c.key).where(jobs.c.key.startswith("onething-check:")))).scalars()
        assert list(left) == [f"onething-check:{eva_row.id}"]  # Eva's check stays, Ann's went
    stale = await one_thing.check_form(world.deps, person=world.ann, value=f"{ann_row.id}:yes")
    assert "no longer stored" in text_of(stale)

    # The sweep: Eva's replaced One Thing older than the 90 days goes, her current one stays.
    world.clock.advance(days=1)
    await one_thing.one_thing_command(world.deps, person=world.eva, text="eva-newer-idea")
    world.clock.advance(days=91)
    counts = await privacy.sweep(world.deps)
    assert counts["one_things"] == 1
    assert [r.text for r in await rows(world.db)] == ["eva-newer-idea"]
    assert (await privacy.sweep(world.deps))["one_things"] == 0


async def test_every_message_renders_on_both_platforms_in_both_languages(world):
    await one_thing.one_thing_command(world.deps, person=world.ann, text="An idea " + "x" * 490)
    for n in range(6):
        await one_thing.one_thing_command(world.deps, person=world.ann, text=f"Idea {n} " + "y" * 490)
    current = await rows(world.db)
    async with world.db.transaction() as conn:
        from core.persistence import one_thing as store

        latest = await store.current(conn, current[-1].member_id)
        history = await store.history(conn, latest.member_id, limit=views.VIEW_HISTORY)
    for language in ("en", "nl"):
        t = translator(language)
        messages = [views.recorded(t, latest, replaced=history[0]), views.unchanged(t, latest),
                    views.sharing_changed(t, latest), views.nothing_yet(t),
                    views.overview(t, latest, history, "Europe/Brussels"), views.check_dm(t, latest),
                    views.check_saved(t, "dropped", again=False),
                    views.text(t.gettext(one_thing.S_REPLACED)),
                    Message(views.home_blocks(t, latest, history[:5], "Europe/Brussels"), fallback="home")]
        for message in messages:
            payload = slack_render.message(message)
            assert block_kit_problems(payload, "message") == [], message
            for block in payload["blocks"]:
                SlackBlock.parse(block).validate_json()
            assert_valid_card(teams_render.message_card(message))
        forms = [views.form(t, value="z" * 3000, shared=True, errors={"text": "bad"}),
                 views.check_form(t, latest, one_thing_id=latest.id, answer="yes", note="n" * 3000,
                                  errors={"note": "bad"}),
                 views.check_form(t, None, one_thing_id=0, answer=None)]
        for form in forms:
            assert block_kit_problems(slack_render.modal(form), "view") == []
            assert_valid_card(teams_render.form_card(form))


async def test_saves_racing_leave_one_current_one_thing(world):
    import asyncio

    await one_thing.one_thing_command(world.deps, person=world.ann, text="Warm up")  # the member exists
    results = await asyncio.gather(*(one_thing.save_one_thing(world.deps, person=world.ann, text=f"Idea {n}",
                                                              share=None) for n in range(4)))
    assert all(isinstance(r, one_thing.Done) for r in results)
    current = [r for r in await rows(world.db) if r.replaced_at is None]
    assert len(current) == 1 and len(await rows(world.db)) == 5
