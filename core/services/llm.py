"""LLM help for people: drafting a share post, a summary on demand, the meeting check's reasoning,
and the workspace admin's switches. Every function works without a model: drafting falls back to a
plain draft, the summary to the offline one, the reasoning to None.

The model is reached through the summariser built in `core.bootstrap` (`LlmSummariser.llm`); with
no endpoint configured there is none, and everything here says so instead of failing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import BaseModel, Field

from core import metrics
from core.domain import rounds as rules
from core.domain.refs import PersonRef
from core.domain.rounds import FieldError, ShareInput, ShareMode
from core.domain.summary import AnswerText, SummaryInput
from core.domain.text import N_
from core.llm.client import LlmError, approx_tokens
from core.llm.gate import ENDPOINT, Access, Llm
from core.llm.neutralise import neutralise, urls_in
from core.llm.summariser import LANGUAGES
from core.messages import rounds as views
from core.messages.i18n import resolve
from core.messages.model import Message, Notice
from core.persistence import llm as store
from core.persistence import repository as repo
from core.services.deps import Deps
from core.services.rounds import known_person, person_translator

log = logging.getLogger("unmeet.llm")

BULLETS_MAX = 8000  # characters of notes or pasted document text a draft starts from
MODEL_NAME_MAX = 255
BUDGET_MAX = 100_000_000

E_BULLETS_EMPTY = N_("Write a few bullets (or paste the text) after “draft”, e.g. /share-insight draft "
                     "why we stop status meetings.")
E_FORM_EMPTY = N_("Write a few bullets or paste the text in the Text field first, then press “Draft with AI”.")
E_DRAFT_PLAIN = N_("AI drafting is off in this workspace, so here is your text with the programme's questions. "
                   "Edit them as you like.")
E_DRAFT_FAILED = N_("The AI draft didn't work this time, so here is your text with the programme's questions.")
E_NOT_AUTHOR = N_("Only the person who shared this round can summarise it before it closes.")
E_NO_ROUND = N_("You have no open round here to summarise.")
E_ROUND_CLOSED = N_("This round is closed; its summary is in the thread.")
E_NO_ANSWERS = N_("Nobody has answered yet, so there is nothing to summarise.")
E_MODEL_NAME = N_("Use the model's name as the endpoint knows it, without spaces (at most {max} characters).")
E_BUDGET = N_("Enter a whole number of tokens from 0 to {max}.")


def llm_of(deps: Deps) -> Llm:
    """The model gate of this process (without a client when no endpoint is configured)."""
    llm = getattr(deps.summariser, "llm", None)
    return llm if isinstance(llm, Llm) else Llm(deps.db, deps.clock, deps.settings, None)


# --- drafting ----------------------------------------------------------------------------------------
class DraftOut(BaseModel):
    title: str
    post: str
    questions: list[str] = Field(min_length=3, max_length=3)


@dataclass(frozen=True)
class Draft:
    """A prefilled share form's content; `notice` says why it is not an AI draft, when it isn't."""

    data: ShareInput
    notice: Notice | None = None
    model: str | None = None


async def draft_insight(deps: Deps, *, author: PersonRef, bullets: str, base: ShareInput | None = None,
                        in_form: bool = False) -> Draft | Notice:
    """From a lead's bullets or pasted text: a title, a short inviting post and three reflection
    questions, to prefill the share form. Nothing is posted: the lead edits and submits the form.
    `base` keeps what the form already holds (channel, deadline, mode), and what the lead typed
    wherever the draft has nothing. `in_form`: asked from the form's button, not the command."""
    member = await known_person(deps, author)
    t = await person_translator(deps, member)
    bullets = bullets.strip()[:BULLETS_MAX]
    if not bullets:
        return views.notice(t.gettext(E_FORM_EMPTY if in_form else E_BULLETS_EMPTY))
    base = base or ShareInput(title="")
    typed = tuple(b or d for b, d in zip(base.questions, rules.DEFAULT_QUESTIONS[t.language]))
    plain = ShareInput(title=base.title, link=base.link, text=(base.text or bullets)[: rules.TEXT_MAX],
                       questions=typed, deadline=base.deadline,
                       share_mode=base.share_mode, channel_id=base.channel_id)
    llm = llm_of(deps)
    access = await llm.access(member.workspace_id)
    if (refused := access.refusal(approx_tokens(bullets) + 600)) is not None:
        metrics.llm_fallback("draft_insight", refused)
        return Draft(plain, views.notice(t.gettext(E_DRAFT_PLAIN)))
    try:
        result, _usage = await llm.complete(access, member.workspace_id, "draft_insight", "v1",
                                            {"notes": bullets, "language": LANGUAGES[t.language]}, DraftOut)
    except LlmError as error:
        log.warning("draft failed, giving the plain one: %s", error)
        metrics.llm_fallback("draft_insight", ENDPOINT)
        return Draft(plain, views.notice(t.gettext(E_DRAFT_FAILED)))
    allowed = urls_in([bullets, base.link])
    questions = tuple(neutralise(q, allowed, limit=rules.QUESTION_MAX) or d for q, d in zip(result["questions"], typed))
    data = ShareInput(title=neutralise(result["title"], allowed, limit=rules.TITLE_MAX) or base.title,
                      link=base.link, text=neutralise(result["post"], allowed, limit=rules.TEXT_MAX) or plain.text,
                      questions=questions, deadline=base.deadline, share_mode=base.share_mode,
                      channel_id=base.channel_id)
    return Draft(data, None, access.model)


# --- a summary on demand -------------------------------------------------------------------------------
async def summarise_now(deps: Deps, *, person: PersonRef, round_id: int | None = None,
                        channel_id: str | None = None) -> Message | Notice:
    """The author's private look at an open round: a summary of the answers so far (the model's when
    available, else the offline one). Without `round_id`: their latest open round in `channel_id`."""
    member = await known_person(deps, person, refresh=False)
    t = await person_translator(deps, member)
    async with deps.db.transaction() as conn:
        if round_id is None:
            round_id = await store.latest_open_round(conn, member.id, channel_id)
        round_ = await repo.get_round(conn, round_id) if round_id is not None else None
        if round_ is None or round_.workspace.id != member.workspace_id:
            return views.notice(t.gettext(E_NO_ROUND))
        if round_.author.id != member.id:
            return views.notice(t.gettext(E_NOT_AUTHOR))
        if rules.is_closed(round_.deadline_at, round_.status, deps.clock.now()):
            return views.notice(t.gettext(E_ROUND_CLOSED))
        answers = await repo.round_answers(conn, round_.id)
    if not answers:
        return views.notice(t.gettext(E_NO_ANSWERS))
    anonymous = round_.share_mode == ShareMode.ANONYMOUS
    data = SummaryInput(
        round_id=round_.id, workspace_id=round_.workspace.id, title=round_.title, locale=round_.locale,
        anonymous=anonymous, questions=round_.questions, asked=round_.asked,
        answers=tuple(AnswerText(a.id, None if anonymous else (a.member.name or a.member.ref.id), a.texts)
                      for a in answers))
    summary = await deps.summariser.summarise(data)
    return views.summary_message(t, summary, anonymous=anonymous)


# --- the meeting check's reasoning -------------------------------------------------------------------------
class ReasonOut(BaseModel):
    reason: str


async def meeting_reason(deps: Deps, workspace_id: int, check_summary: str, locale: str | None) -> str | None:
    """One sentence explaining a "do we need to meet?" outcome, in `locale`; None without a model
    (switched off, budget spent, endpoint failing) — the caller then shows its own wording."""
    llm = llm_of(deps)
    access = await llm.access(workspace_id)
    check_summary = check_summary.strip()[:2000]
    if not check_summary or access.refusal(approx_tokens(check_summary) + 300) is not None:
        return None
    try:
        result, _usage = await llm.complete(access, workspace_id, "meeting_reason", "v1",
                                            {"check": check_summary, "language": LANGUAGES[resolve(locale)]},
                                            ReasonOut)
    except LlmError as error:
        log.warning("meeting reason failed: %s", error)
        metrics.llm_fallback("meeting_reason", ENDPOINT)
        return None
    return neutralise(result["reason"], limit=300) or None


# --- the team agreement's draft ------------------------------------------------------------------------------
class DraftLine(BaseModel):
    text: str
    sources: list[int] = Field(default_factory=list)


class AgreementDraftOut(BaseModel):
    principles: list[DraftLine] = Field(default_factory=list)
    rules: list[DraftLine] = Field(default_factory=list)
    actions: list[DraftLine] = Field(default_factory=list)


E_AGREEMENT_DRAFT_OFF = N_("With AI drafting on, a draft agreement from these answers would follow here.")
E_AGREEMENT_DRAFT_FAILED = N_("The AI draft didn't work this time; the answers above are all there is.")
DRAFT_LIMITS = {"principles": 4, "rules": 6, "actions": 3}


def checked_draft(result: dict, numbers: set[int]) -> dict:
    """The model's draft as code lets it through: each line cites only answers that exist (a line
    citing none is dropped), is neutralised (no mentions, no links) and short; counts are capped."""
    out: dict = {}
    for key, limit in DRAFT_LIMITS.items():
        lines = []
        for line in result.get(key, ()):
            sources = sorted({n for n in line.get("sources", ()) if n in numbers})
            text = neutralise(line.get("text", ""), limit=200)
            if sources and text:
                lines.append({"text": text, "sources": sources})
        out[key] = lines[:limit]
    return out


async def draft_agreement(deps: Deps, workspace_id: int, questions, groups, locale: str | None
                          ) -> tuple[dict | None, str | None]:
    """A draft principles → rules → actions from the questionnaire's answers (`groups`: per question,
    (number, text, name) — names are never sent), or (None, why not as a message id)."""
    llm = llm_of(deps)
    access = await llm.access(workspace_id)
    numbers = {n for group in groups for n, _text, _name in group}
    if not numbers:
        return None, None
    by_number: dict[int, list[str]] = {}
    for index, group in enumerate(groups, start=1):
        for n, text, _name in group:
            by_number.setdefault(n, []).append(f"{index}. {text.strip()[:1500]}")
    answers = "\n\n".join(f"A{n}\n" + "\n".join(lines) for n, lines in sorted(by_number.items()))[:BULLETS_MAX * 2]
    listed = "\n".join(f"{i}. {q}" for i, q in enumerate(questions, start=1))
    if not access.enabled or access.refusal(approx_tokens(answers) + 800) is not None:
        return None, E_AGREEMENT_DRAFT_OFF if access.configured else None
    try:
        result, _usage = await llm.complete(access, workspace_id, "draft_agreement", "v1",
                                            {"questions": listed, "answers": answers,
                                             "language": LANGUAGES[resolve(locale)]}, AgreementDraftOut)
    except LlmError as error:
        log.warning("agreement draft failed: %s", error)
        return None, E_AGREEMENT_DRAFT_FAILED
    draft = checked_draft(result, numbers)
    return ({**draft, "model": access.model, "prompt_id": "draft_agreement/v1"}
            if any(draft.values()) else None), (None if any(draft.values()) else E_AGREEMENT_DRAFT_FAILED)


# --- a coach's feedback on a Driver's Seat week --------------------------------------------------------
class FeedbackDraftOut(BaseModel):
    strength: str
    pattern: str
    suggestion: str


FEEDBACK_PART_MAX = 400


async def can_draft(deps: Deps, workspace_id: int) -> bool:
    """The coach's form offers "Draft feedback" only while the workspace has the model on."""
    return (await llm_of(deps).access(workspace_id)).enabled


async def draft_feedback(deps: Deps, workspace_id: int, entries: str, locale: str | None) -> str | None:
    """A coach's draft from a week's entries (`entries`: the days' tasks, kinds, colours and whys — no
    names): one strength, one pattern, one suggestion, for the coach to edit. None without a model or
    when it fails (the coach writes their own)."""
    llm = llm_of(deps)
    access = await llm.access(workspace_id)
    entries = entries[:BULLETS_MAX]
    if not access.enabled or access.refusal(approx_tokens(entries) + 600) is not None:
        return None
    try:
        result, _usage = await llm.complete(access, workspace_id, "draft_feedback", "v1",
                                            {"entries": entries, "language": LANGUAGES[resolve(locale)]},
                                            FeedbackDraftOut)
    except LlmError as error:
        log.warning("feedback draft failed: %s", error)
        return None
    parts = [neutralise(result[key], limit=FEEDBACK_PART_MAX) for key in ("strength", "pattern", "suggestion")]
    return "\n\n".join(part for part in parts if part) or None


# --- a coach's briefing before a programme session -------------------------------------------------------
class BriefingOut(BaseModel):
    themes: list[str] = Field(max_length=4)
    questions: list[str] = Field(max_length=3)


@dataclass(frozen=True)
class Briefing:
    themes: tuple[str, ...]
    questions: tuple[str, ...]


BRIEFING_INPUT_MAX = 12000
BRIEFING_PART_MAX = 400


async def programme_briefing(deps: Deps, workspace_id: int, shared: str, locale: str | None) -> Briefing | None:
    """Themes and questions for the coach from what the cohort shared with them (`shared`: no names).
    None without a model or when it fails (the briefing then has the figures only)."""
    llm = llm_of(deps)
    access = await llm.access(workspace_id)
    shared = shared[:BRIEFING_INPUT_MAX]
    if not shared.strip() or not access.enabled or access.refusal(approx_tokens(shared) + 800) is not None:
        return None
    try:
        result, _usage = await llm.complete(access, workspace_id, "programme_briefing", "v1",
                                            {"shared": shared, "language": LANGUAGES[resolve(locale)]}, BriefingOut)
    except LlmError as error:
        log.warning("programme briefing failed: %s", error)
        return None
    themes = tuple(t for t in (neutralise(x, limit=BRIEFING_PART_MAX) for x in result["themes"]) if t)
    questions = tuple(q for q in (neutralise(x, limit=BRIEFING_PART_MAX) for x in result["questions"]) if q)
    return Briefing(themes, questions) if themes else None


# --- the admin's switches ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LlmSettings:
    configured: bool  # the server has an endpoint and a model; if not, the switches do nothing
    enabled: bool
    model: str  # what this workspace uses
    default_model: str  # the server's UNMEET_LLM_MODEL
    daily_token_budget: int
    used_today: int


def _view(access: Access, default_model: str) -> LlmSettings:
    return LlmSettings(access.configured, access.enabled, access.model, default_model, access.daily_token_budget,
                       access.used_today)


async def llm_settings(deps: Deps, workspace_id: int) -> LlmSettings:
    return _view(await llm_of(deps).access(workspace_id), deps.settings.unmeet_llm_model)


def validate_llm_settings(*, model: str | None, daily_token_budget: int | None) -> dict[str, FieldError]:
    """Field id -> error, for the settings form: `model`, `daily_token_budget`."""
    errors: dict[str, FieldError] = {}
    if model is not None and (len(model) > MODEL_NAME_MAX or any(c.isspace() for c in model.strip())):
        errors["model"] = FieldError(E_MODEL_NAME, {"max": MODEL_NAME_MAX})
    if daily_token_budget is not None and not 0 <= daily_token_budget <= BUDGET_MAX:
        errors["daily_token_budget"] = FieldError(E_BUDGET, {"max": BUDGET_MAX})
    return errors


async def set_llm_settings(deps: Deps, workspace_id: int, *, enabled: bool, model: str | None = None,
                           daily_token_budget: int | None = None) -> LlmSettings:
    """Store a workspace's switches. `model`/`daily_token_budget` None (or an empty model) mean the
    server's defaults. Raises ValueError for values `validate_llm_settings` refuses."""
    model = (model or "").strip() or None
    if errors := validate_llm_settings(model=model, daily_token_budget=daily_token_budget):
        raise ValueError(f"invalid LLM settings: {sorted(errors)}")
    async with deps.db.transaction() as conn:
        await store.save_settings(conn, workspace_id, store.StoredLlmSettings(enabled, model, daily_token_budget),
                                  deps.clock.now())
    return await llm_settings(deps, workspace_id)



# --- the stuck log's decision-rights proposal ------------------------------------------------------------
class DecisionRule(BaseModel):
    kind: str
    text: str


class DecisionRightsOut(BaseModel):
    rules: list[DecisionRule] = Field(default_factory=list)


SUGGESTIONS = {"name_decider": "name one person who decides", "doer_decides": "the person doing the work decides",
               "answer_in_a_day": "the one who decides answers within a working day"}


def groups_text(groups: list[dict]) -> str:
    """The report's figures as the model sees them: counts per kind of decision, nothing people wrote."""
    return "\n".join(f"{g['kind']}: stuck {g['count']} times; decider unknown or unclear {g['unknown']} of "
                     f"{g['count']}; typical wait {g['median_hours']:g} working hours; suggestion: "
                     f"{SUGGESTIONS[g['proposal']]}" for g in groups)


async def decision_rights(deps: Deps, workspace_id: int, groups: list[dict], locale: str | None
                          ) -> dict[str, str] | None:
    """The model's rule per kind of decision, from the report's counts only: {kind: text}, each kind one
    of the groups', each text neutralised and short; None when the model is off or fails (the report
    then keeps the rule-based proposal)."""
    if not groups:
        return None
    llm = llm_of(deps)
    access = await llm.access(workspace_id)
    listed = groups_text(groups)
    if not access.enabled or access.refusal(approx_tokens(listed) + 600) is not None:
        return None
    try:
        result, _usage = await llm.complete(access, workspace_id, "decision_rights", "v1",
                                            {"groups": listed, "language": LANGUAGES[resolve(locale)]},
                                            DecisionRightsOut)
    except LlmError as error:
        log.warning("decision-rights proposal failed: %s", error)
        metrics.llm_fallback("decision_rights", ENDPOINT)
        return None
    kinds = {g["kind"] for g in groups}
    found: dict[str, str] = {}
    for rule in result.get("rules", ()):
        text = neutralise(rule.get("text", ""), limit=200)
        if rule.get("kind") in kinds and text and rule["kind"] not in found:
            found[rule["kind"]] = text
    return found or None
