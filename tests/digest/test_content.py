"""The digest's content from a seeded database: figures, privacy, week boundaries, language, cost."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from core.domain.digest import week_of
from core.messages.digest import digest_message
from core.messages.i18n import translator
from core.persistence import digest as store
from core.persistence.tables_focus import focus_sessions, meeting_checks
from core.services.digest import build_digest
from tests.digest.seed import World
from tests.fakes.messenger import text_of

UTC = timezone.utc
TZ = "Europe/Brussels"
# The week of Monday 19 October 2026 in Brussels ends on Sunday 25 October, when summer time ends:
# it runs from 18 Oct 22:00 UTC to 25 Oct 23:00 UTC (169 hours).
DST_WEEK_DAY = datetime(2026, 10, 21, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)  # built afterwards (a late digest job)


async def seeded(db, *, locale=None):
    async with db.transaction() as conn:
        world = await World(conn, now=DST_WEEK_DAY, locale=locale).setup()
        ann, bob, cas, zoe = [await world.member(f"U{i}", name) for i, name in
                              enumerate(["Ann Answerer", "Bob Answerer", "Cas Answerer", "Zoe Silent"], start=1)]
        # Opened this week (Tuesday), still open: 2 of 4 answered, one of them on Sunday 23:30 local —
        # inside the week only because the week ends at local midnight (23:00 UTC after the DST change).
        world.opened = await world.round(
            "Opened this week", created=datetime(2026, 10, 20, 8, tzinfo=UTC),
            deadline=datetime(2026, 10, 30, 16, tzinfo=UTC), asked=[ann, bob, cas, zoe], post="111.1",
            answered={ann: datetime(2026, 10, 20, 9, tzinfo=UTC), bob: datetime(2026, 10, 25, 22, 30, tzinfo=UTC)})
        # Opened last week, closed this week with a headline: 1 of 2 answered (last week, so it is not
        # one of this week's answers).
        world.closed = await world.round(
            "Closed this week", created=datetime(2026, 10, 13, 8, tzinfo=UTC),
            deadline=datetime(2026, 10, 22, 15, tzinfo=UTC), asked=[cas, zoe], post="222.2",
            closed=datetime(2026, 10, 22, 15, tzinfo=UTC), headline="People want fewer status meetings.",
            answered={cas: datetime(2026, 10, 14, 9, tzinfo=UTC)})
        # Just outside the week on both sides (local Monday 00:30 = Sunday 23:30 UTC; Sunday 18 Oct 23:30).
        await world.round(
            "Next week's", created=datetime(2026, 10, 25, 23, 30, tzinfo=UTC),
            deadline=datetime(2026, 11, 5, 16, tzinfo=UTC), asked=[ann], post="333.3",
            closed=datetime(2026, 10, 26, 9, tzinfo=UTC), answered={ann: datetime(2026, 10, 25, 23, 40, tzinfo=UTC)})
        await world.round(
            "Last week's", created=datetime(2026, 10, 18, 21, 30, tzinfo=UTC),
            deadline=datetime(2026, 10, 18, 21, 45, tzinfo=UTC), asked=[ann], post="444.4",
            closed=datetime(2026, 10, 18, 21, 50, tzinfo=UTC))
        # Focus this week: Ann 4.5 h proactive (reaches the default 4 h goal), Bob 1 h reactive; a
        # session that started last week does not count. One meeting check went async (6 person-hours).
        await conn.execute(sa.insert(focus_sessions), [
            dict(workspace_id=world.workspace_id, member_id=ann, category="proactive",
                 started_at=datetime(2026, 10, 20, 7, tzinfo=UTC), ends_at=datetime(2026, 10, 20, 11, 30, tzinfo=UTC), ended_at=None),
            dict(workspace_id=world.workspace_id, member_id=bob, category="reactive",
                 started_at=datetime(2026, 10, 21, 7, tzinfo=UTC), ends_at=datetime(2026, 10, 21, 9, tzinfo=UTC),
                 ended_at=datetime(2026, 10, 21, 8, tzinfo=UTC)),
            dict(workspace_id=world.workspace_id, member_id=bob, category="stuff",
                 started_at=datetime(2026, 10, 18, 21, tzinfo=UTC), ends_at=datetime(2026, 10, 18, 23, tzinfo=UTC), ended_at=None)])
        check = dict(workspace_id=world.workspace_id, member_id=ann, purpose="inform", agenda="x", people=6,
                     minutes=60, frequency="once", decider_known="yes", readable=True, person_hours=6.0,
                     created_at=datetime(2026, 10, 22, 9, tzinfo=UTC))
        await conn.execute(sa.insert(meeting_checks), [
            dict(check, verdict="go_async", converted_at=datetime(2026, 10, 22, 10, tzinfo=UTC)),
            dict(check, verdict="meet", person_hours=3.0, converted_at=None)])
        world.context = await store.channel_context(conn, world.channel_id)
    return world


async def test_figures_and_dst_week_boundaries(db):
    world = await seeded(db)
    week = week_of(DST_WEEK_DAY, TZ)
    assert (week.end - week.start).total_seconds() == 169 * 3600
    async with db.transaction() as conn:
        digest = await build_digest(conn, world.context, week, NOW)
    assert [line.title for line in digest.opened] == ["Opened this week"]
    assert [line.title for line in digest.closed] == ["Closed this week"]
    assert [line.title for line in digest.coming] == ["Opened this week"]
    opened, closed = digest.opened[0], digest.closed[0]
    assert (opened.answered, opened.asked) == (2, 4)
    assert (closed.answered, closed.asked, closed.headline) == (1, 2, "People want fewer status meetings.")
    # Answers this week: Ann Tuesday and Bob Sunday night (the 23:40 UTC one is next week's).
    assert (digest.participation.answers, digest.participation.answerers) == (2, 2)
    assert digest.participation.asked == 4  # Ann, Bob, Cas, Zoe in the two rounds running this week
    assert [p.answers for p in digest.history][-2:] == [1, 2]  # last week: Cas; this week: Ann, Bob
    assert len(digest.history) == 8
    assert (digest.focus.hours, digest.focus.people, digest.focus.reached_goal) == (5.5, 2, 1)
    assert digest.focus.mix == {"proactive": 4.5, "reactive": 1.0, "stuff": 0.0}
    assert [p.focus_hours for p in digest.history][-2:] == [2.0, 5.5]
    assert (digest.meetings.checks, digest.meetings.went_async, digest.meetings.hours_given_back) == (2, 1, 6.0)


async def test_the_message_names_no_one_and_lists_each_part(db):
    world = await seeded(db)
    async with db.transaction() as conn:
        digest = await build_digest(conn, world.context, week_of(DST_WEEK_DAY, TZ), NOW)
    message = digest_message(translator("en"), digest, links={world.opened: "https://slack.example/p111"})
    text = text_of(message)
    for name in ("Zoe", "Silent", "Ann", "Bob", "Cas"):
        assert name not in text and name not in message.fallback
    assert "Rounds opened this week" in text and "2 of 4 answered" in text
    assert "Rounds closed this week" in text and "People want fewer status meetings." in text
    assert "2 answers this week, from 2 people of 4 asked." in text
    assert "What's coming" in text and "Friday 30 October, 17:00" in text
    assert "19 Oct – 25 Oct 2026" in text
    assert "5.5 h of focus in total. 1 of 2 people reached their weekly goal." in text
    assert "Proactive 82% · Reactive 18% · Stuff 0%" in text
    assert "2 meetings checked, 1 went async — about 6 person-hours given back." in text
    assert "https://slack.example/p111" in text
    chart, = message.attachments
    assert chart.mime == "image/png" and chart.content.startswith(b"\x89PNG")


async def test_dutch_rendering(db):
    world = await seeded(db, locale="nl")
    async with db.transaction() as conn:
        digest = await build_digest(conn, world.context, week_of(DST_WEEK_DAY, TZ), NOW)
    text = text_of(digest_message(translator(world.context.locale), digest))
    assert "Wekelijks overzicht" in text
    assert "2 van 4 antwoordden" in text
    assert "vrijdag 30 oktober, 17:00" in text
    assert "What's coming" not in text


async def test_an_empty_week_is_empty(db):
    world = await seeded(db)
    async with db.transaction() as conn:
        await conn.execute(sa.text("UPDATE rounds SET status = 'closed', closed_at = created_at"))
        await conn.execute(sa.text("DELETE FROM focus_sessions"))
        digest = await build_digest(conn, world.context, week_of(datetime(2026, 10, 5, 12, tzinfo=UTC), TZ), NOW)
    assert digest.is_empty


async def test_statement_count_does_not_grow_with_the_data(db):
    world = await seeded(db)
    counts = []
    for extra in (0, 60):
        async with db.transaction() as conn:
            people = [await world_member(world, conn, f"X{extra}-{i}") for i in range(extra)]
            if people:
                world.conn = conn
                await world.round(f"Busy {extra}", created=datetime(2026, 10, 20, 9, tzinfo=UTC),
                                  deadline=datetime(2026, 10, 29, 16, tzinfo=UTC), asked=people,
                                  answered={p: datetime(2026, 10, 21, 9, tzinfo=UTC) for p in people})
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
        try:
            async with db.transaction() as conn:
                digest = await build_digest(conn, world.context, week_of(DST_WEEK_DAY, TZ), NOW)
        finally:
            sa.event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
        counts.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert digest.participation.answers == 62
    assert counts[0] == counts[1] <= 10, counts  # one per section (the stuck log's count, the Driver's Seat week)


async def world_member(world, conn, external_id):
    world.conn = conn
    return await world.member(external_id, external_id)
