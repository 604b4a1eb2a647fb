"""What services need, in one place: built once by `core.bootstrap`, passed to every service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.config import Settings
from core.foreground import Foreground
from core.persistence.db import Database
from core.ports import Clock, Messenger, Summariser


@dataclass
class Deps:
    db: Database
    clock: Clock
    settings: Settings
    summariser: Summariser
    messengers: dict[str, Messenger] = field(default_factory=dict)
    wake_worker: Callable[[], None] = lambda: None  # new work queued: tell the in-process worker
    status_setters: dict = field(default_factory=dict)  # platform -> core.services.focus.StatusSetter
    # WorkspaceRef -> time.monotonic() when a request last showed it installed (core.services.events)
    present_workspaces: dict = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # adapters' HTTP sessions, for `close`
    foreground: Foreground = field(default_factory=Foreground)  # requests in flight: background lets them go first

    async def close(self) -> None:
        """At shutdown: release what the adapters hold open, then the database."""
        for close in self.closers:
            await close()
        await self.db.dispose()

    def messenger(self, platform: str) -> Messenger:
        try:
            return self.messengers[platform]
        except KeyError:
            raise LookupError(f"no messenger for platform {platform!r} (is it configured?)") from None
