"""Drafting, the summary on demand, the meeting reason and the admin's switches — with the model
on the loopback server, and without a model at all."""

from __future__ import annotations

import pytest

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.domain.refs import PersonRef
from core.domain.rounds import DEFAULT_QUESTIONS, ShareInput, ShareMode
from core.messages.model import Message, Notice, plain_text
from core.services import llm as service
from tests.fakes.messenger import FakeMessenger
from tests.fakes.openai_server import Reply
from tests.llm.helpers import ANSWERS_EN, WORKSPACE, answer, message_text, share_round

BULLETS = "- Deep work by Cal Newport, chapter 1\n- why our status meetings go\n- 20 minutes of reading"


@pytest.fixture
async def deps(db, clock, llm_settings):
    deps = build_deps(llm_settings, clock=clock, db=db)
    deps.messengers["slack"] = FakeMessenger()
    yield deps
    await deps.summariser.llm.client.aclose()


@pytest.fixture
def offline_deps(db, clock, database_url):
    deps = build_deps(Settings(database_url=database_url), clock=clock, db=db)
    deps.messengers["slack"] = FakeMessenger()
    return deps


def lead(deps) -> PersonRef:
    return deps.messengers["slack"].add_person(WORKSPACE, "ULEAD", "Lea Lead", locale="nl-BE")


async def test_draft_with_the_model_prefills_title_post_and_three_questions(deps, openai_server):
    base = ShareInput(title="", channel_id="C1", share_mode=ShareMode.ANONYMOUS)
    draft = await service.draft_insight(deps, author=lead(deps), bullets=BULLETS, base=base)
    assert isinstance(draft, service.Draft) and draft.notice is None and draft.model == "fake-model"
    assert draft.data.title == "Deep work by Cal Newport, chapter 1"
    assert "own time" in draft.data.text and len(draft.data.questions) == 3
    assert (draft.data.channel_id, draft.data.share_mode) == ("C1", ShareMode.ANONYMOUS)
    [request] = openai_server.requests
    assert "Dutch" in request.user and "why our status meetings go" in request.user


async def test_a_draft_never_carries_mentions_or_foreign_links(deps, openai_server):
    openai_server.script(Reply(content={"title": "<!channel> Read", "post": "See https://evil.example <@U1>",
                                        "questions": ["One <!here>?", "Two?", "Three?"]}))
    draft = await service.draft_insight(deps, author=lead(deps), bullets=BULLETS)
    flat = " ".join([draft.data.title, draft.data.text, *draft.data.questions])
    assert "<!" not in flat and "<@" not in flat and "evil.example" not in flat


async def test_without_a_model_the_draft_is_the_bullets_with_the_programmes_questions(offline_deps):
    draft = await service.draft_insight(offline_deps, author=lead(offline_deps), bullets=BULLETS)
    assert draft.data.text == BULLETS.strip() and draft.data.questions == DEFAULT_QUESTIONS["nl"]
    assert "staat uit" in plain_text(draft.notice.text)


async def test_a_failing_endpoint_gives_the_plain_draft_with_a_notice(deps, openai_server):
    openai_server.script(*[Reply(status=500)] * 2)
    draft = await service.draft_insight(deps, author=lead(deps), bullets=BULLETS)
    assert draft.data.text == BULLETS.strip() and draft.notice is not None


async def test_empty_bullets_get_a_hint(deps):
    assert isinstance(await service.draft_insight(deps, author=lead(deps), bullets="  "), Notice)


async def test_summarise_now_is_for_the_author_only_and_shows_answers_so_far(deps, openai_server):
    messenger = deps.messengers["slack"]
    people = [("UANN1", "Ann"), ("UBOB2", "Bob")]
    round_id = await share_round(deps, messenger, people)
    await build_worker(deps).run_due()
    assert isinstance(await service.summarise_now(deps, person=PersonRef(WORKSPACE, "ULEAD"), round_id=round_id),
                      Notice)  # nobody answered yet
    await answer(deps, "UANN1", round_id, ANSWERS_EN[0])
    await answer(deps, "UBOB2", round_id, ANSWERS_EN[1])
    not_author = await service.summarise_now(deps, person=PersonRef(WORKSPACE, "UANN1"), round_id=round_id)
    assert isinstance(not_author, Notice) and "Only the person who shared" in plain_text(not_author.text)
    summary = await service.summarise_now(deps, person=PersonRef(WORKSPACE, "ULEAD"), channel_id="C1")
    assert isinstance(summary, Message) and "Written by AI (fake-model)" in message_text(summary)
    assert openai_server.calls == 1


async def test_meeting_reason_with_and_without_a_model(deps, offline_deps, openai_server, workspace_id):
    reason = await service.meeting_reason(deps, workspace_id, "Outcome: write it down <!here>.", "nl-BE")
    assert reason and "<!here>" not in reason and "Dutch" in openai_server.requests[0].user
    assert await service.meeting_reason(offline_deps, workspace_id, "Outcome: meet.", "en") is None
    openai_server.script(Reply(status=500), Reply(status=500))
    assert await service.meeting_reason(deps, workspace_id, "Outcome: meet.", "en") is None


async def test_admin_settings_default_on_when_configured_and_can_be_changed(deps, offline_deps, workspace_id):
    default = await service.llm_settings(deps, workspace_id)
    assert (default.configured, default.enabled, default.model, default.daily_token_budget) == (
        True, True, "fake-model", 200_000)
    changed = await service.set_llm_settings(deps, workspace_id, enabled=False, model=" small-model ",
                                             daily_token_budget=5000)
    assert (changed.enabled, changed.model, changed.daily_token_budget) == (False, "small-model", 5000)
    back = await service.set_llm_settings(deps, workspace_id, enabled=True, model="", daily_token_budget=None)
    assert (back.enabled, back.model, back.daily_token_budget) == (True, "fake-model", 200_000)
    assert not (await service.llm_settings(offline_deps, workspace_id)).enabled  # no endpoint: off
    assert set(service.validate_llm_settings(model="two words", daily_token_budget=-1)) == {"model",
                                                                                            "daily_token_budget"}
    with pytest.raises(ValueError):
        await service.set_llm_settings(deps, workspace_id, enabled=True, daily_token_budget=-5)
