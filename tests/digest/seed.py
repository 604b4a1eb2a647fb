"""Seeding a digest's world straight into the database (a test of the digest, not of sharing rounds)."""

from __future__ import annotations

from datetime import datetime

from core.domain.refs import WorkspaceRef
from core.persistence import repository as repo


class World:
    def __init__(self, conn, *, platform: str = "slack", team: str = "T1", channel: str = "C1",
                 tz: str | None = "Europe/Brussels", locale: str | None = None, now: datetime):
        self.conn, self.now, self.platform, self.team, self.channel_external = conn, now, platform, team, channel
        self.tz, self.locale = tz, locale

    async def setup(self) -> "World":
        self.workspace_id = await repo.ensure_workspace(self.conn, WorkspaceRef(self.platform, self.team),
                                                        now=self.now)
        self.channel_id = await repo.ensure_channel(self.conn, self.workspace_id, self.channel_external,
                                                    tz=self.tz, locale=self.locale)
        self.author_id = await self.member("U0", "Lead Author")
        return self

    async def member(self, external_id: str, name: str) -> int:
        return await repo.ensure_member(self.conn, self.workspace_id, external_id, name=name)

    async def round(self, title: str, *, created: datetime, deadline: datetime, asked: list[int],
                    answered: dict[int, datetime] = {}, closed: datetime | None = None, headline: str | None = None,
                    post: str | None = None) -> int:
        round_id = await repo.insert_round(
            self.conn, workspace_id=self.workspace_id, channel_id=self.channel_id, author_id=self.author_id,
            title=title, link="https://example.org/doc", body="", questions=["a", "b", "c"], share_mode="thread",
            locale="en", status="closed" if closed else "open", deadline_at=deadline, created_at=created,
            closed_at=closed, asked=len(asked), post_conversation=self.channel_external if post else None,
            post_id=post)
        await repo.add_recipients(self.conn, round_id, asked)
        for member_id, when in answered.items():
            await repo.save_answer(self.conn, round_id, member_id, ["x", "y", "z"], when)
        if headline:
            await repo.save_summary(self.conn, round_id, kind="offline", headline=headline, body={}, created_at=closed)
        return round_id
