"""A real round from share to close, driven through the services and the job worker with a fixed
clock and the in-memory messenger; the summary goes through whatever summariser `deps` has."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from core.domain.refs import WorkspaceRef
from core.domain.rounds import DEFAULT_QUESTIONS, ShareInput, ShareMode
from core.messages.model import Context, Fields, Header, Message, Section, plain_text
from core.persistence.tables import rounds
from core.services import rounds as round_service
from tests.fakes.messenger import FakeMessenger

WORKSPACE = WorkspaceRef("slack", "T1")

ANSWERS_EN = [
    ("I recognise myself in the planner: my calendar is full of status meetings that could be an email.",
     "Deep work, shallow work and the meetings that eat the time in between.",
     "I will block two mornings a week for focus time and answer status questions in writing."),
    ("The firefighter, because I jump on every chat message and lose the thread of my own work.",
     "Deep work that needs silence, routine work, and meetings that need everyone at once.",
     "I'll turn off notifications in the morning and protect my focus time."),
    ("Partly the planner. I like meetings because they feel productive, even when they are not.",
     "Deep work, admin, and collaboration in meetings.",
     "Ask before every meeting whether a written update would do."),
    ("Honestly none of them; my work is mostly support tickets and that is interrupt-driven by design.",
     "Support work does not fit the three kinds well; it is all reactive.",
     "Maybe a shared rota, so that one person takes the interruptions and the others get focus time."),
]


def message_text(message: Message) -> str:
    parts = []
    for block in message.blocks:
        if isinstance(block, Header):
            parts.append(block.text)
        elif isinstance(block, (Section, Context)):
            parts.append(plain_text(block.text))
        elif isinstance(block, Fields):
            parts += [f"{k}: {plain_text(v)}" for k, v in block.pairs]
    return "\n".join(parts + [message.fallback])


async def share_round(deps, messenger: FakeMessenger, people: list[tuple[str, str]], *,
                      share_mode: str = ShareMode.THREAD, title: str = "Deep work, by Cal Newport",
                      deadline: date = date(2026, 12, 4), channel: str = "C1", locale: str = "en-GB") -> int:
    """Lea shares a round in `channel` with `people` (user id, name); returns the round id."""
    author = messenger.add_person(WORKSPACE, "ULEAD", "Lea Lead", tz="Europe/Brussels", locale=locale)
    for user_id, name in people:
        messenger.add_person(WORKSPACE, user_id, name, tz="Europe/Brussels", locale=locale)
    messenger.channels[channel] = [author.id] + [user_id for user_id, _ in people]
    language = "nl" if locale.startswith("nl") else "en"
    result = await round_service.share_insight(deps, author=author, data=ShareInput(
        title=title, link="https://example.com/deep-work", questions=DEFAULT_QUESTIONS[language],
        deadline=deadline, share_mode=share_mode, channel_id=channel))
    assert isinstance(result, round_service.Done), result
    async with deps.db.transaction() as conn:
        return (await conn.execute(sa.select(sa.func.max(rounds.c.id)))).scalar_one()


async def answer(deps, user_id: str, round_id: int, texts) -> None:
    from core.domain.refs import PersonRef

    result = await round_service.record_answer(deps, person=PersonRef(WORKSPACE, user_id), round_id=round_id,
                                               texts=tuple(texts))
    assert isinstance(result, round_service.Done) and "Thank" in plain_text(result.notice.text), result


def summaries(messenger: FakeMessenger) -> list[Message]:
    return [s.message for s in messenger.sent if s.message.fallback in ("Summary of the round",
                                                                           "Samenvatting van de ronde")]
