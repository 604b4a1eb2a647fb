"""Installations in core: each workspace's bot token stored encrypted, found again, deleted for one
workspace only; install states work once and expire. Real SQLite and PostgreSQL."""

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.persistence.db import Database
from core.persistence.tables import workspaces
from core.persistence.tables_installations import installations as table
from core.ports import FixedClock
from core.services import events, installations
from core.services.installations import BotInstallation

A, B = WorkspaceRef("slack", "TA"), WorkspaceRef("slack", "TB")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def deps(database_url):
    clock = FixedClock(NOW)
    deps = build_deps(Settings(database_url=database_url, unmeet_secret_key="k" * 32), clock=clock,
                      db=Database(database_url))
    yield deps
    await deps.db.dispose()


def bot(workspace: WorkspaceRef, token: str) -> BotInstallation:
    return BotInstallation(workspace, f"UBOT{workspace.id}", token, bot_id="B1", app_id="A1",
                           bot_scopes="commands,chat:write", installer_id="U1")


async def test_tokens_are_encrypted_at_rest_and_found_per_workspace(deps):
    await installations.save_installation(deps, bot(A, "xoxb-a-1"), workspace_name="Team A")
    await installations.save_installation(deps, bot(B, "xoxb-b-1"))
    async with deps.db.transaction() as conn:
        stored = (await conn.execute(sa.select(table.c.bot_token_encrypted))).scalars().all()
    assert len(stored) == 2 and not any("xoxb" in value for value in stored)
    found = await installations.find_installation(deps, A)
    assert (found.bot_token, found.bot_user_id, found.installer_id) == ("xoxb-a-1", "UBOTTA", "U1")
    assert "xoxb" not in repr(found)
    await installations.save_installation(deps, bot(A, "xoxb-a-2"))  # a reinstall replaces the token
    assert (await installations.find_installation(deps, A)).bot_token == "xoxb-a-2"
    assert await installations.find_installation(deps, WorkspaceRef("slack", "TX")) is None


async def test_installing_again_after_an_uninstall_brings_the_workspace_back(deps):
    await installations.save_installation(deps, bot(A, "xoxb-a"))
    await events.workspace_uninstalled(deps, A)
    assert await uninstalled_at(deps, A) is not None
    await installations.save_installation(deps, bot(A, "xoxb-a-again"))
    assert await uninstalled_at(deps, A) is None


async def uninstalled_at(deps, workspace: WorkspaceRef):
    async with deps.db.transaction() as conn:
        return (await conn.execute(sa.select(workspaces.c.uninstalled_at).where(
            workspaces.c.external_id == workspace.id))).scalar_one()


async def test_removing_one_workspace_leaves_the_other_and_twice_is_the_same(deps):
    await installations.save_installation(deps, bot(A, "xoxb-a"))
    await installations.save_installation(deps, bot(B, "xoxb-b"))
    assert await installations.remove_installation(deps, A) is True
    assert await installations.remove_installation(deps, A) is False
    assert await installations.find_installation(deps, A) is None
    assert (await installations.find_installation(deps, B)).bot_token == "xoxb-b"


async def test_a_token_stored_under_another_key_is_not_used(deps, database_url):
    await installations.save_installation(deps, bot(A, "xoxb-a"))
    other = build_deps(Settings(database_url=database_url, unmeet_secret_key="another key"), clock=deps.clock,
                       db=deps.db)
    assert await installations.find_installation(other, A) is None


async def test_an_install_state_works_once_and_expires(deps):
    state = await installations.issue_install_state(deps)
    assert state.startswith(installations.INSTALL_STATE_PREFIX)
    assert await installations.take_install_state(deps, state) is True
    assert await installations.take_install_state(deps, state) is False
    late = await installations.issue_install_state(deps)
    deps.clock.advance(minutes=11)
    assert await installations.take_install_state(deps, late) is False
    assert await installations.take_install_state(deps, "install.made-up") is False
    assert await installations.take_install_state(deps, "") is False
