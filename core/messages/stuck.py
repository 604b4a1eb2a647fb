"""What the stuck log looks like to people: the channel's announcement, the entry form, the end-of-day
question, a person's status, the decision-rights report and the digest's line."""

from __future__ import annotations

from datetime import date

from core.domain.stuck import NOTE_MAX, OTHER_MAX, WHAT_MAX, EntryInput, Kind, Knew, Proposal, Waited
from core.messages.i18n import Translator
from core.messages.model import (Actions, Block, Bold, Button, Choice, Context, Form, Header, Message, Section,
                                 SelectInput, TextInput, rich)
from core.persistence.stuck import EntryRow

FORM = "stuck.form"
RECORD_ACTION = "stuck.record"  # value: the log's id; opens the form (the end-of-day question)
NOT_STUCK_ACTION = "stuck.not_stuck"  # value: "{log}:{day}"
ADOPT_ACTION = "stuck.adopt"  # value: the log's id; the report's proposal becomes draft rules
INPUT_LIMIT = 3000  # the platforms' input ceiling: a too-long text comes back whole, with the sentence
SHOWN_OWN = 10


def text(message: str) -> Message:
    return Message((Section(rich(message)),), fallback=message)


def kind_label(t: Translator, kind: str) -> str:
    _ = t.gettext
    return {Kind.PRIORITIES: _("Priorities"), Kind.SCOPE: _("Scope"), Kind.BUDGET: _("Budget and spending"),
            Kind.TECHNICAL: _("Technical choices"), Kind.CUSTOMER: _("Customers"),
            Kind.PEOPLE: _("People and planning"), Kind.OTHER: _("Other")}.get(kind, kind)


def knew_label(t: Translator, knew: str) -> str:
    _ = t.gettext
    return {Knew.YES: _("Yes"), Knew.NO: _("No"), Knew.UNCLEAR: _("Unclear")}.get(knew, knew)


def waited_label(t: Translator, waited: str) -> str:
    _ = t.gettext
    return {Waited.UNDER_HOUR: _("Under an hour"), Waited.HOURS: _("A few hours"), Waited.DAY: _("About a day"),
            Waited.LONGER: _("More than a day")}.get(waited, waited)


def proposal_line(t: Translator, kind: str, proposal: str) -> str:
    label = kind_label(t, kind)
    return {Proposal.NAME_DECIDER: t.gettext("{kind}: name one person who decides, and tell the team who.",
                                             kind=label),
            Proposal.DOER_DECIDES: t.gettext("{kind}: the person doing the work decides, and tells the team.",
                                             kind=label),
            Proposal.ANSWER_IN_A_DAY: t.gettext("{kind}: the one who decides answers within a working day.",
                                                kind=label)}[Proposal(proposal)]


def _day(t: Translator, day: date) -> str:
    return t.date(day, "EEEE d MMMM")


def started(t: Translator, *, first: date, last: date, days: int, shortcut: bool) -> Message:
    """The channel's announcement (`shortcut`: the platform has the message shortcut, Slack)."""
    _ = t.gettext
    line = _("A stuck log runs in this channel for {days} working days, {first} to {last}.", days=days,
             first=_day(t, first), last=_day(t, last))
    how = _("Each time you are stuck waiting for a decision, note it with /stuck and what you were waiting "
            "for, or with the message shortcut “I was stuck here”.") if shortcut else \
        _("Each time you are stuck waiting for a decision, note it with /stuck and what you were waiting for.")
    private = _("Your entries are yours alone; the report at the end is about the team, without names.")
    return Message((Section(rich(Bold(_("Stuck log")), "\n", line)), Context(rich(how, " ", private))),
                   fallback=line)


def start_reply(t: Translator, *, first: date, last: date, days: int) -> Message:
    line = t.gettext("Started: the stuck log runs {days} working days, {first} to {last}. The report comes to the "
                     "channel at the end.", days=days, first=_day(t, first), last=_day(t, last))
    return text(line)


def form(t: Translator, *, log_id: int, data: EntryInput | None = None, errors: dict[str, str] | None = None) -> Form:
    gettext = t.gettext
    data = data or EntryInput()
    kinds = tuple(Choice(k.value, kind_label(t, k)) for k in Kind)
    knew = tuple(Choice(k.value, knew_label(t, k)) for k in Knew)
    waited = tuple(Choice(w.value, waited_label(t, w)) for w in Waited)
    return Form(id=FORM, title=gettext("I was stuck"), submit=gettext("Save"), close=gettext("Cancel"),
                metadata=str(log_id), errors=errors or {},
                intro=(Section(rich(gettext("Only you see what you write here. The team's report counts the kinds "
                                            "of decision and the waiting, never your words or your name."))),),
                inputs=(TextInput("what", gettext("What were you waiting for?"), data.what, multiline=True,
                                  max_length=INPUT_LIMIT, hint=gettext("At most {max} characters.", max=WHAT_MAX)),
                        SelectInput("kind", gettext("What kind of decision?"), kinds, data.kind),
                        TextInput("other", gettext("Another kind (when you chose other)"), data.other,
                                  optional=True, max_length=INPUT_LIMIT,
                                  hint=gettext("At most {max} characters.", max=OTHER_MAX)),
                        SelectInput("knew", gettext("Did you know who decides?"), knew, data.knew, radio=True),
                        SelectInput("waited", gettext("How long did you wait?"), waited, data.waited, radio=True),
                        TextInput("note", gettext("A note (optional)"), data.note, multiline=True, optional=True,
                                  max_length=INPUT_LIMIT, hint=gettext("At most {max} characters.", max=NOTE_MAX))))


def saved(t: Translator, *, again: bool) -> Message:
    if again:
        return text(t.gettext("That one is noted already, so nothing changed."))
    line = t.gettext("Noted. Only you see it; the team's report counts it without your words or name.")
    return text(line)


def nudge_dm(t: Translator, *, log_id: int, day: date) -> Message:
    _ = t.gettext
    line = _("Were you stuck today, waiting for a decision?")
    return Message((Section(rich(line)),
                    Actions((Button(_("No"), NOT_STUCK_ACTION, f"{log_id}:{day.isoformat()}"),
                             Button(_("Yes, note it"), RECORD_ACTION, str(log_id), style="primary"))),
                    Context(rich(_("For the team's stuck log. I ask once a day until it ends.")))), fallback=line)


def status(t: Translator, *, first: date, last: date, today: date, days: tuple[date, ...], team_count: int,
           own: list[EntryRow]) -> Message:
    """`/stuck` alone while a log runs: where it stands and the person's own entries."""
    _ = t.gettext
    done = sum(1 for day in days if day <= today)
    blocks: list[Block] = [Header(_("Stuck log")),
                           Section(rich(_("Day {day} of {days}: {first} to {last}.", day=done, days=len(days),
                                          first=_day(t, first), last=_day(t, last)), "\n",
                                        t.ngettext("The team noted {n} stuck moment so far.",
                                                   "The team noted {n} stuck moments so far.", team_count)))]
    if own:
        blocks.append(Section(rich(Bold(_("Yours (only you see these)")))))
        for entry in own[-SHOWN_OWN:]:
            blocks.append(Section(rich("• ", entry.what, " — ", kind_label(t, entry.kind), ", ",
                                       waited_label(t, entry.waited).lower())))
    blocks.append(Context(rich(_("Note one with /stuck and what you were waiting for."))))
    return Message(tuple(blocks), fallback=_("Stuck log"))


def none_running(t: Translator) -> Message:
    return text(t.gettext("No stuck log is running in this channel. Start one with /stuck start (10 working "
                          "days) or /stuck start 5."))


def _hours(t: Translator, hours: float) -> str:
    if hours < 1:
        return t.gettext("under an hour")
    if hours < 8:
        return t.ngettext("{n} hour", "{n} hours", round(hours))
    return t.ngettext("{n} working day", "{n} working days", round(hours / 8))


def report(t: Translator, figures: dict, *, proposal: list[str], drafted: bool, log_id: int) -> Message:
    """The decision-rights report: team-level figures per decision kind and the proposal; no names, no
    entry text."""
    _ = t.gettext
    total, groups = figures["total"], figures["groups"]
    head = t.ngettext("The stuck log ran {days} working days; the team noted {n} stuck moment.",
                      "The stuck log ran {days} working days; the team noted {n} stuck moments.", total,
                      days=figures["days"])
    blocks: list[Block] = [Header(_("Who decides what: the stuck log's report")), Section(rich(head))]
    if not groups:
        blocks.append(Context(rich(_("Nobody was stuck waiting for a decision: nothing to propose."))))
        return Message(tuple(blocks), fallback=head)
    unknown = sum(g["unknown"] for g in groups)
    blocks.append(Section(rich(_("The decider was unknown or unclear {unknown} of {n} times.", unknown=unknown,
                                 n=total))))
    for group in groups:
        waits = ", ".join(f"{waited_label(t, w).lower()}: {n}" for w, n in group["waits"].items() if n)
        blocks.append(Section(rich(Bold(kind_label(t, group["kind"])), "\n",
                                   t.ngettext("{n} time", "{n} times", group["count"]), " · ",
                                   _("decider unknown or unclear: {unknown}", unknown=group["unknown"]), " · ",
                                   _("typical wait: {wait}", wait=_hours(t, group["median_hours"])), "\n",
                                   waits)))
    blocks.append(Section(rich(Bold(_("Proposal: who decides what")))))
    blocks += [Section(rich("• ", line)) for line in proposal]
    source = _("Drafted by the AI model from these counts only; check it before you adopt it.") if drafted else \
        _("From the counts: the decider unknown in half or more → name one; a typical wait over half a day → "
          "the person doing the work decides; else the decider answers within a working day.")
    blocks.append(Context(rich(source)))
    blocks.append(Actions((Button(_("Adopt as rules in our agreement"), ADOPT_ACTION, str(log_id),
                                  style="primary"),)))
    return Message(tuple(blocks), fallback=head)


def adopted(t: Translator, added: int, *, needs_principle: bool) -> Message:
    line = t.ngettext("Added {n} rule to the team agreement's draft.", "Added {n} rules to the team agreement's "
                      "draft.", added)
    after = t.gettext("Write a principle first, then publish: /agreements edit.") if needs_principle else \
        t.gettext("Edit them and publish with /agreements edit.")
    return Message((Section(rich(line)), Context(rich(after))), fallback=line)


def digest_blocks(t: Translator, count: int | None) -> list[Block]:
    """While a log runs: the team's count, one line (nothing when no log runs)."""
    if count is None:
        return []
    return [Section(rich(Bold(t.gettext("Stuck log")), " ",
                         t.ngettext("{n} stuck moment noted so far.", "{n} stuck moments noted so far.", count)))]
