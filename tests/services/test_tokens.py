"""Renewing rotating tokens in core (core.services.tokens), on SQLite and PostgreSQL: when a renewal is
due and when not, a platform hiccup while the token still works, and a refresh token refused for good.
The end-to-end tests against the Slack fake are tests/slack_app/test_token_rotation.py."""

from datetime import datetime, timedelta, timezone

import pytest

from core.bootstrap import build_deps
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.persistence.db import Database
from core.ports import FixedClock
from core.services import installations, tokens
from core.services.installations import BotInstallation

WORKSPACE = WorkspaceRef("slack", "TA")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def deps(database_url):
    deps = build_deps(Settings(database_url=database_url, unmeet_secret_key="k" * 32), clock=FixedClock(NOW),
                      db=Database(database_url))
    yield deps
    await deps.db.dispose()


class Slack:
    """The platform's refresh call: hands out numbered tokens, or fails as told."""

    def __init__(self):
        self.calls: list[str] = []
        self.fail: Exception | None = None

    async def __call__(self, refresh_token: str) -> tokens.Grant:
        self.calls.append(refresh_token)
        if self.fail is not None:
            raise self.fail
        n = len(self.calls)
        return tokens.Grant(f"xoxb-{n}", f"xoxe-{n}", 43200)


async def installed(deps, expires_in: timedelta | None, refresh_token: str | None = "xoxe-0") -> None:
    await installations.save_installation(deps, BotInstallation(
        WORKSPACE, "UBOT", "xoxb-0", refresh_token=refresh_token,
        expires_at=None if expires_in is None else NOW + expires_in))


async def token(deps, slack: Slack, **kwargs) -> str | None:
    found = await installations.find_installation(deps, WORKSPACE, refresh=slack, **kwargs)
    return None if found is None else found.bot_token


async def test_renewed_two_hours_before_the_expiry_and_not_earlier(deps):
    slack = Slack()
    await installed(deps, timedelta(hours=2, minutes=1))
    assert await token(deps, slack) == "xoxb-0" and slack.calls == []
    deps.clock.advance(minutes=1)
    assert await token(deps, slack) == "xoxb-1" and slack.calls == ["xoxe-0"]
    assert await token(deps, slack) == "xoxb-1" and len(slack.calls) == 1  # 12 hours to go now
    deps.clock.advance(hours=10)
    assert await token(deps, slack) == "xoxb-2" and slack.calls == ["xoxe-0", "xoxe-1"]  # the newest refresh token


async def test_a_token_without_rotation_is_never_renewed(deps):
    slack = Slack()
    await installed(deps, None, refresh_token=None)
    assert await token(deps, slack) == "xoxb-0"
    assert await token(deps, slack, refused="xoxb-0") == "xoxb-0" and slack.calls == []


async def test_a_refusal_renews_only_the_refused_token_and_invalid_auth_only_after_the_expiry(deps):
    slack = Slack()
    await installed(deps, timedelta(hours=6))
    assert await token(deps, slack, refused="xoxb-0", expired=False) == "xoxb-0" and slack.calls == []
    assert await token(deps, slack, refused="xoxb-0") == "xoxb-1" and len(slack.calls) == 1
    # Refused again with the old token (a call that was in flight): the renewed one, no second renewal.
    assert await token(deps, slack, refused="xoxb-0") == "xoxb-1" and len(slack.calls) == 1
    deps.clock.advance(hours=12)
    assert await token(deps, slack, refused="xoxb-1", expired=False) == "xoxb-2" and len(slack.calls) == 2


async def test_a_hiccup_keeps_the_token_while_it_works_and_a_refused_refresh_token_is_final(deps):
    slack = Slack()
    await installed(deps, timedelta(hours=1))
    slack.fail = ConnectionError("Slack is down")
    assert await token(deps, slack) == "xoxb-0"  # still an hour to go: kept, tried again next time
    deps.clock.advance(hours=1)
    with pytest.raises(ConnectionError):
        await token(deps, slack)  # expired: nothing to fall back on
    slack.fail = tokens.RefreshRefused("invalid_refresh_token")
    with pytest.raises(tokens.RefreshRefused):
        await token(deps, slack)
    slack.fail = None
    assert await token(deps, slack) == "xoxb-4"  # nothing was stored by the failed attempts
    assert slack.calls == ["xoxe-0"] * 4
