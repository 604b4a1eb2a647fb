"""Channel settings: digest day and time, time zone, language; for workspace admins also the weekly
focus goal and AI summaries on/off (kept by the focus and LLM features; this form calls their stores).

Who may change them is decided by the platform adapter (it knows the platform's roles) and passed
in as `Authority`; core only enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time
from zoneinfo import ZoneInfo

from core.domain.digest import DigestSchedule
from core.domain.refs import ChannelRef, PersonRef
from core.domain.text import N_
from core.jobs import queue
from core.messages import digest as views
from core.messages.i18n import SUPPORTED, Translator, translator
from core.messages.model import Form, Notice, rich
from core.persistence import digest as store
from core.persistence import llm as llm_store
from core.persistence import repository as repo
from core.services import focus
from core.services.deps import Deps
from core.services.digest import schedule_channel
from core.services.rounds import Done, Invalid, known_person

E_TZ = N_("I don't know the time zone “{tz}”. Use a name such as Europe/Brussels.")
E_GOAL_HOURS = N_("Give the weekly focus goal in hours, between 0 and 40, for example 4 or 2.5.")
NOT_ALLOWED = N_("Only channel managers and workspace admins can change these settings.")


@dataclass(frozen=True)
class Authority:
    """What the platform says about the person: may they manage this channel / the workspace?"""

    channel_manager: bool = False
    workspace_admin: bool = False

    @property
    def allowed(self) -> bool:
        return self.channel_manager or self.workspace_admin


async def _translator(deps: Deps, member) -> Translator:
    async with deps.db.transaction() as conn:
        workspace = await repo.get_workspace(conn, member.workspace_id)
    return translator(member.locale, workspace.locale, deps.settings.unmeet_default_locale)


async def settings_form(deps: Deps, *, person: PersonRef, channel: ChannelRef, authority: Authority) -> Form | Notice:
    member = await known_person(deps, person)
    t = await _translator(deps, member)
    if not authority.allowed:
        return Notice(rich(t.gettext(NOT_ALLOWED)))
    async with deps.db.transaction() as conn:
        channel_id = await repo.ensure_channel(conn, member.workspace_id, channel.id)
        context = await store.channel_context(conn, channel_id)
        values = views.SettingsValues(
            channel=channel.id, day=str(context.schedule.weekday) if context.schedule.enabled else "off",
            at=f"{context.schedule.at:%H:%M}", tz=context.tz, language=context.locale or t.language)
        llm = await llm_store.get_settings(conn, member.workspace_id) if authority.workspace_admin else None
    if authority.workspace_admin:
        goal = await focus.workspace_goal(deps, workspace=person.workspace)
        values = replace(values, focus_goal=_hours_text(goal), llm="on" if llm is None or llm.enabled else "off")
    return views.settings_form(t, values)


def _hours_text(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return bool(name)


async def save_settings(deps: Deps, *, person: PersonRef, values: dict[str, str | None],
                        authority: Authority) -> Invalid | Done:
    """Check and store the form; the channel's next digest moves to the new day and time."""
    member = await known_person(deps, person, refresh=False)
    t = await _translator(deps, member)
    if not authority.allowed:
        return Done(Notice(rich(t.gettext(NOT_ALLOWED))))
    form = views.SettingsValues(
        channel=values.get("channel") or "", day=values.get("day") or "4", at=values.get("at") or "15:00",
        tz=(values.get("tz") or "").strip(), language=values.get("language") or "en",
        focus_goal=(values.get("focus_goal") or "").strip() if authority.workspace_admin else None,
        llm=values.get("llm") if authority.workspace_admin else None)
    errors: dict[str, str] = {}
    if not _valid_zone(form.tz):
        errors["tz"] = t.gettext(E_TZ, tz=form.tz)
    goal_minutes = None
    if form.focus_goal:
        try:
            goal_minutes = round(float(form.focus_goal.replace(",", ".")) * 60)
        except ValueError:
            goal_minutes = -1
        if not 0 <= goal_minutes <= 40 * 60:
            errors["focus_goal"] = t.gettext(E_GOAL_HOURS)
    if errors:
        return Invalid(views.settings_form(t, form, errors))
    hour, minute = (int(x) for x in form.at.split(":"))
    schedule = DigestSchedule(enabled=form.day != "off", weekday=int(form.day) if form.day != "off" else 4,
                              at=time(hour, minute))
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        channel_id = await repo.ensure_channel(conn, member.workspace_id, form.channel)
        await store.save_channel_settings(conn, channel_id, schedule, tz=form.tz,
                                          locale=form.language if form.language in SUPPORTED else None, now=now)
        if form.llm is not None:
            stored = await llm_store.get_settings(conn, member.workspace_id)
            await llm_store.save_settings(conn, member.workspace_id, _llm_switched(stored, form.llm == "on"), now)
        # The next digest follows the new settings: drop the queued one, queue it again at the new time
        # (a week whose digest was already sent stays sent: its row is done, so it is not queued again).
        await queue.cancel(conn, key_prefix=f"digest:{channel_id}:", now=now)
        await schedule_channel(conn, await store.channel_context(conn, channel_id), now, revive=True)
    if goal_minutes is not None:
        await focus.set_workspace_goal(deps, workspace=person.workspace, minutes=goal_minutes)
    t = translator(member.locale, form.language)
    return Done(Notice(rich(t.gettext("Saved. The digest for this channel follows the new settings."))))


def _llm_switched(stored, enabled: bool):
    return replace(stored, enabled=enabled) if stored is not None else llm_store.StoredLlmSettings(enabled=enabled)
