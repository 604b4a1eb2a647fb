"""Personal data: one person's export and erasure, and the retention sweep (`unmeet data …`).

Export: every row that is the person's (core/persistence/privacy.py finds them from the schema) as
JSON; secrets are left out (a personal token shows as `"connected": true`).

Erase: those rows go in one transaction, with every job that names them (pending or finished); a
workspace's installation forgets that they installed it. A round the person shared goes with its
answers and summary: it is theirs. In the rounds of others
they were asked in or answered, the team's figures stay consistent: the round's `asked` and its
stored summary's counts are one lower, and their quotes leave the summary; wording written from
everyone's answers together (the headline, theme labels) stays as it was. Each message of theirs
that unmeet posted — an answer in a thread, the channel post of a round they shared — is replaced
by a one-line note by a `privacy.retract` job (the Messenger port's `update`; there is no delete).

Retention: a daily `privacy.sweep` job (key `privacy.sweep:{day}`, so once a day however many
workers) deletes what is older than UNMEET_RETENTION_DAYS (0 keeps everything), including the data
of workspaces uninstalled longer ago than that.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.refs import PersonRef, Posted, WorkspaceRef
from core.domain.summary import AnswerText, without_person
from core.jobs import queue
from core.jobs.queue import Job
from core.messages import privacy as views
from core.messages.i18n import translator
from core.persistence import privacy as store
from core.persistence import repository as repo
from core.services.deps import Deps
from core.services.rounds import summary_from_json, summary_to_json

log = logging.getLogger("unmeet.privacy")

FORMAT = "unmeet.person-export.v1"
RETRACT_KIND = "privacy.retract"
SWEEP_KIND = "privacy.sweep"


# --- export and erase ---------------------------------------------------------------------------------
async def export_person(deps: Deps, person: PersonRef) -> dict:
    """All of the person's rows, by table (tables without any left out): empty once they are erased."""
    async with deps.db.transaction() as conn:
        found = await store.person_rows(conn, person)
    return {"format": FORMAT,
            "person": {"platform": person.workspace.platform, "workspace": person.workspace.id, "id": person.id},
            "exported_at": deps.clock.now().isoformat(),
            "tables": {table: rows for table, rows in found.items() if rows}}


@dataclass(frozen=True)
class Erased:
    rows: dict[str, int]  # deleted per table (rows that went with them by cascade not counted)
    retracted: int  # posted messages that a job will replace by a note


async def erase_person(deps: Deps, person: PersonRef) -> Erased:
    """Delete everything of the person (see the module's docstring). A second call finds nothing."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        found = await store.person_rows(conn, person)
        if not any(found.values()):
            return Erased({}, 0)
        own = {row["id"]: row for row in found.get("rounds", ())}
        asked_in = {row["round_id"] for row in found.get("recipients", ())} - own.keys()
        answered = {row["round_id"]: row for row in found.get("answers", ()) if row["round_id"] not in own}
        locales = {round_id: row["locale"] for round_id, row in own.items()}
        for round_id in asked_in | answered.keys():
            locales[round_id] = (await repo.get_round(conn, round_id)).locale
            if round_id in asked_in:
                await store.leave_round(conn, round_id)
            await _forget_in_summary(conn, round_id, answered.get(round_id), was_asked=round_id in asked_in)
        rows = await store.delete_rows(conn, person, found, also={"answer": await store.answers_to(conn, set(own))})
        posted = [(row["reply_conversation"], row["reply_id"], row["round_id"]) for row in found.get("answers", ())
                  if row["reply_id"]] + [(row["post_conversation"], row["post_id"], row["id"])
                                         for row in own.values() if row["post_id"]]
        for conversation, message_id, round_id in posted:
            digest = hashlib.sha256(f"{conversation}\n{message_id}".encode()).hexdigest()[:32]
            await queue.enqueue(conn, RETRACT_KIND, f"retract:{digest}",
                                {"platform": person.workspace.platform, "workspace": person.workspace.id,
                                 "conversation": conversation, "id": message_id, "locale": locales[round_id]},
                                due_at=now, now=now, workspace_id=found["members"][0]["workspace_id"])
    deps.wake_worker()
    log.info("erased one person in %s workspace %s: %s; %d posted message(s) to replace", person.workspace.platform,
             person.workspace.id, {k: v for k, v in rows.items() if v}, len(posted))
    return Erased(rows, len(posted))


async def _forget_in_summary(conn: AsyncConnection, round_id: int, answer: dict | None, *, was_asked: bool) -> None:
    stored = await repo.get_summary(conn, round_id)
    if stored is None:
        return
    text = None if answer is None else AnswerText(answer["id"], None, tuple(answer["texts"]))
    summary = without_person(summary_from_json(stored.body), text, was_asked=was_asked)
    await store.set_summary_body(conn, round_id, summary_to_json(summary))


async def retract(deps: Deps, job: Job) -> None:
    """Replace one posted message of an erased person by a note, in the round's language."""
    payload = job.payload
    t = translator(payload.get("locale"), deps.settings.unmeet_default_locale)
    workspace = WorkspaceRef(payload["platform"], payload["workspace"])
    await deps.messenger(workspace.platform).update(Posted(payload["conversation"], payload["id"]), views.removed(t),
                                                    workspace=workspace)


# --- retention ----------------------------------------------------------------------------------------
async def sweep(deps: Deps) -> dict[str, int]:
    """Delete what the retention period no longer covers (see core.persistence.privacy.sweep)."""
    now = deps.clock.now()
    days = deps.settings.unmeet_retention_days
    async with deps.db.transaction() as conn:
        counts = await store.sweep(conn, now=now, cutoff=now - timedelta(days=days) if days else None)
    log.info("retention sweep (%s): %s", f"{days} days" if days else "kept forever",
             {k: v for k, v in counts.items() if v} or "nothing to delete")
    return counts


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


async def _enqueue_sweep(conn: AsyncConnection, day: datetime, now: datetime) -> None:
    await queue.enqueue(conn, SWEEP_KIND, f"{SWEEP_KIND}:{day:%Y-%m-%d}", {}, due_at=day, now=now)


async def ensure_sweep(deps: Deps) -> None:
    """Make sure today's sweep exists (called when a worker starts; idempotent)."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await _enqueue_sweep(conn, _day(now), now)


async def sweep_job(deps: Deps, job: Job) -> None:
    """Today's sweep, then tomorrow's row."""
    await sweep(deps)
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        await _enqueue_sweep(conn, _day(now) + timedelta(days=1), now)


PRIVACY_JOBS = {RETRACT_KIND: retract, SWEEP_KIND: sweep_job}
