"""My to-do list (我的待办): what waits for a user, each line linking to the place to act.

Each kind of line is one query over the records that wait, kept to the targets on which the
access rule lets the user do the work (`scoping.may_q` with the action that does it), so the
list holds what the pages would let the user act on, and nothing of another street or unit.
Discipline inspection (Action.OVERDUE_WATCH) acts on none of them: its lines are the
overdue ones across what it sees. The header's count is the same querysets in one UNION
query, so it always equals the page's lines.

Due means due by the end of this week (Monday to Sunday) or earlier; overdue means before today.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import Membership
from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import (
    NOTHING,
    liaison_streets,
    may_in_campaign,
    may_q,
    memberships,
    sees_whole_campaign,
    units_visible_q,
    visible_q,
)
from taizhang.campaigns.models import Liaison, OrgUnit
from taizhang.ledger.models import DONE_STATES, Target
from taizhang.ledger.selectors import ledger_targets

from .models import Inspection, Lease, LegalStep, Petition, Plan, PlanStep, TransitionEvent, Verification

State = Target.State
# Where an approved plan's steps are being carried out.
CARRYING_OUT = (State.PLAN_APPROVED, State.IN_REMEDIATION)


@dataclass(frozen=True)
class Window:
    """Whose list, in which campaign, on which day; `overview` counts what is overdue in the
    user's whole view instead (the home page's figures), whoever may act on it."""

    user: object
    campaign: object
    today: datetime.date
    overview: bool = False

    @property
    def week_end(self) -> datetime.date:
        return self.today + datetime.timedelta(days=6 - self.today.weekday())

    def act(self, action: Action, prefix: str) -> Q:
        """The records the user may act on (the access rule), in this campaign."""
        return NOTHING if self.overview else may_q(self.user, action, prefix) & self._campaign(prefix)

    def watch(self, prefix: str) -> Q:
        """The records the user follows when overdue (or, for the figures, all it sees)."""
        who = visible_q(self.user, prefix) if self.overview else may_q(self.user, Action.OVERDUE_WATCH, prefix)
        return who & self._campaign(prefix)

    def _campaign(self, prefix: str) -> Q:
        return Q(**{prefix + "campaign": self.campaign})

    def due(self, act: Q, prefix: str, field: str = "due_on") -> Q:
        """Due this week for those who act; overdue for those who watch."""
        return ((act & Q(**{field + "__lte": self.week_end}))
                | (self.watch(prefix) & Q(**{field + "__lt": self.today})))


@dataclass(frozen=True)
class Line:
    """One thing waiting: on which target, what, where to act, and its day: the day it is due
    (`due`), or else the day it dates from (the text says which)."""

    target: Target
    text: str
    day: datetime.date | None
    url: str
    due: bool = False
    overdue: bool = False


def _due_line(target, text: str, day: datetime.date, url: str, w: "Window") -> Line:
    return Line(target, text, day, url, due=True, overdue=day < w.today)


@dataclass(frozen=True)
class Kind:
    """A kind of line: its heading, the records waiting (`rows`, for the count too), and how one
    of them loads and reads as a line."""

    code: str
    title: object
    rows: Callable[[Window], QuerySet]
    load: Callable[[QuerySet], QuerySet]
    line: Callable[[object, Window], Line]
    # How the home page's figures name what is overdue of this kind in the user's view (None: not counted).
    figure: object = None


def _url(name: str, target_id: int, anchor: str) -> str:
    return "%s#%s" % (reverse(name, args=[target_id]), anchor)


# --- plans submitted, waiting for approval ------------------------------------------------

def _plans(w: Window) -> QuerySet:
    return Plan.objects.filter(w.act(Action.PLAN_APPROVE, "target__"), status=Plan.Status.SUBMITTED)


def _plan_line(plan: Plan, w: Window) -> Line:
    text = _("Version %(version)s, submitted for approval (plan date %(day)s)") % {
        "version": plan.version, "day": plan.planned_on.isoformat()}
    url = _url("remediation:plans", plan.target_id, "plan-v%d" % plan.version)
    return Line(plan.target, text, plan.planned_on, url)


# --- completions waiting for acceptance ------------------------------------------------------

def _completions(w: Window) -> QuerySet:
    return Target.objects.filter(w.act(Action.ACCEPTANCE_RECORD, ""), state=State.COMPLETION_REPORTED)


def _completions_load(targets: QuerySet) -> QuerySet:
    reported = (TransitionEvent.objects.filter(target=OuterRef("pk"), to_state=State.COMPLETION_REPORTED)
                .order_by("-at", "-id").values("at")[:1])
    return targets.annotate(reported_at=Subquery(reported)).select_related("street")


def _completion_line(target: Target, w: Window) -> Line:
    day = timezone.localdate(target.reported_at) if target.reported_at else None
    text = _("Completion reported on %(day)s") % {"day": day.isoformat()} if day else _("Completion reported")
    return Line(target, text, day, _url("remediation:acceptance", target.pk, "acceptance-form"))


# --- verifications waiting for this party's confirmation -------------------------------------

def _verifications(w: Window) -> QuerySet:
    street = w.act(Action.VERIFICATION_CONFIRM_STREET, "target__")
    holder = w.act(Action.VERIFICATION_CONFIRM_HOLDER, "target__")
    # The side a user confirms is the street's if it may, else the holder's (verification_confirm).
    waiting = ((street & Q(street_confirmed_at__isnull=True))
               | (~street & holder & Q(holder_confirmed_at__isnull=True)))
    # A verification older than one both sides confirmed is superseded: nothing waits on it.
    newer_confirmed = Verification.objects.filter(
        target=OuterRef("target"), created_at__gt=OuterRef("created_at"),
        street_confirmed_at__isnull=False, holder_confirmed_at__isnull=False)
    return Verification.objects.filter(waiting).exclude(Exists(newer_confirmed))


def _verification_line(verification: Verification, w: Window) -> Line:
    day = timezone.localdate(verification.created_at)
    text = _("Verification of %(day)s, waiting for your side's confirmation") % {"day": day.isoformat()}
    return Line(verification.target, text, day,
                _url("remediation:work", verification.target_id, "verification-%d" % verification.pk))


# --- leases refused or exposed, waiting for a first judicial step ----------------------------

def _leases(w: Window) -> QuerySet:
    return (Lease.objects.filter(w.act(Action.JUDICIAL_RECORD, "target__"), answer=Lease.Answer.REFUSED)
            .exclude(target__state=State.CLOSED).exclude(Exists(LegalStep.objects.filter(lease=OuterRef("pk")))))


def _lease_line(lease: Lease, w: Window) -> Line:
    if lease.exposed_on:
        text = _("%(lessee)s refused on %(day)s to end the lease, exposed on %(exposed)s: no judicial step yet") % {
            "lessee": lease.lessee, "day": lease.answered_on.isoformat(), "exposed": lease.exposed_on.isoformat()}
    else:
        text = _("%(lessee)s refused on %(day)s to end the lease: no judicial step yet") % {
            "lessee": lease.lessee, "day": lease.answered_on.isoformat()}
    url = _url("remediation:legal", lease.target_id, "lease-%d" % lease.pk)
    return Line(lease.target, text, lease.answered_on, url)


# --- plan steps, judicial steps and re-inspections due this week or overdue ------------------

def _plan_steps(w: Window) -> QuerySet:
    prefix = "plan__target__"
    # The step's owner unit, which the plan names, is reminded too, where it sees the target.
    owner = Q(Exists(Membership.objects.filter(user=w.user, unit=OuterRef("owner")))) & visible_q(w.user, prefix)
    act = NOTHING if w.overview else (w.act(Action.PLAN_CARRY_OUT, prefix) | (owner & w._campaign(prefix)))
    return PlanStep.objects.filter(w.due(act, prefix), plan__status=Plan.Status.APPROVED,
                                   plan__target__state__in=CARRYING_OUT, due_on__isnull=False)


def _plan_step_line(step: PlanStep, w: Window) -> Line:
    text = _("Step %(n)s of plan v%(version)s: %(step)s") % {
        "n": step.order, "version": step.plan.version, "step": Truncator(step.description).chars(80)}
    if step.owner_id:
        text += " (%s)" % step.owner.label
    return _due_line(step.plan.target, text, step.due_on,
                     _url("remediation:plans", step.plan.target_id, "plan-v%d" % step.plan.version), w)


def _judicial_steps(w: Window) -> QuerySet:
    prefix = "lease__target__"
    return LegalStep.objects.filter(w.due(w.act(Action.JUDICIAL_RECORD, prefix), prefix), done_on__isnull=True,
                                    due_on__isnull=False)


def _judicial_line(step: LegalStep, w: Window) -> Line:
    text = _("%(stage)s on the lease of %(lessee)s") % {"stage": step.get_stage_display(), "lessee": step.lease.lessee}
    return _due_line(step.lease.target, text, step.due_on,
                     _url("remediation:legal", step.lease.target_id, "legal-step-%d" % step.pk), w)


def _inspections(w: Window) -> QuerySet:
    return Inspection.objects.filter(w.due(w.act(Action.INSPECTION_RECORD, "target__"), "target__"),
                                     done_on__isnull=True, target__state=State.CLOSED)


def _inspection_line(inspection: Inspection, w: Window) -> Line:
    return _due_line(inspection.target, _("Re-inspection against rebound"), inspection.due_on,
                     _url("remediation:acceptance", inspection.target_id, "inspection-form"), w)


# --- holds past their review date ----------------------------------------------------------------

def _holds(w: Window) -> QuerySet:
    reached = w.act(Action.STEP_RESUME, "") & Q(hold_review_on__lte=w.today)
    return Target.objects.filter(reached | (w.watch("") & Q(hold_review_on__lt=w.today)), state=State.ON_HOLD)


def _hold_line(target: Target, w: Window) -> Line:
    text = _("On hold, to be reviewed: %(reason)s") % {"reason": Truncator(target.hold_reason).chars(80)}
    return _due_line(target, text, target.hold_review_on, _url("remediation:work", target.pk, "state"), w)


# --- petitions open longer than the preset's limit ---------------------------------------------

def _limit(w: Window) -> datetime.timedelta:
    return datetime.timedelta(days=w.campaign.petition_open_limit_days())


def _petitions(w: Window) -> QuerySet:
    since = w.today - _limit(w)
    return (Petition.objects.filter(w.act(Action.PETITION_HANDLE, "target__") | w.watch("target__"),
                                    received_on__lt=since)
            .exclude(status=Petition.Status.CLOSED))


def _petition_line(petition: Petition, w: Window) -> Line:
    # Who petitioned is not said here: the line may be read by those who do not handle it.
    text = _("Petition received on %(day)s (%(channel)s), %(status)s") % {
        "channel": petition.get_channel_display(), "day": petition.received_on.isoformat(),
        "status": petition.get_status_display()}
    # Due the day it passes the limit: overdue since then.
    return _due_line(petition.target, text, petition.received_on + _limit(w),
                     _url("remediation:legal", petition.target_id, "petition-%d" % petition.pk), w)


def _with(*related):
    return lambda rows: rows.select_related(*related)


KINDS = (
    Kind("plans", gettext_lazy("Plans waiting for approval"), _plans, _with("target__street"), _plan_line),
    Kind("acceptances", gettext_lazy("Completions waiting for acceptance"), _completions, _completions_load,
         _completion_line),
    Kind("verifications", gettext_lazy("Verifications waiting for your confirmation"), _verifications,
         _with("target__street"), _verification_line),
    Kind("leases", gettext_lazy("Refused leases waiting for a first judicial step"), _leases,
         _with("target__street"), _lease_line),
    Kind("plan_steps", gettext_lazy("Plan steps due this week or overdue"), _plan_steps,
         _with("plan__target__street", "plan", "owner"), _plan_step_line, gettext_lazy("Plan steps overdue")),
    Kind("judicial_steps", gettext_lazy("Judicial steps due this week or overdue"), _judicial_steps,
         _with("lease__target__street"), _judicial_line, gettext_lazy("Judicial steps overdue")),
    Kind("inspections", gettext_lazy("Re-inspections due this week or overdue"), _inspections,
         _with("target__street"), _inspection_line, gettext_lazy("Re-inspections overdue")),
    Kind("holds", gettext_lazy("Holds past their review date"), _holds, _with("street"), _hold_line,
         gettext_lazy("Holds past their review date")),
    Kind("petitions", gettext_lazy("Petitions open longer than the campaign's limit"), _petitions,
         _with("target__street"), _petition_line, gettext_lazy("Petitions open too long")),
)


# --- reads -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    kind: Kind
    lines: list[Line]


def todo_sections(user, campaign, today: datetime.date) -> list[Section]:
    """The user's list, kind by kind (empty kinds left out), earliest first: one query per kind."""
    w = Window(user, campaign, today)
    sections = []
    for kind in KINDS:
        rows = kind.load(kind.rows(w))
        lines = sorted((kind.line(row, w) for row in rows),
                       key=lambda line: (line.day or datetime.date.max, line.target.code))
        if lines:
            sections.append(Section(kind, lines))
    return sections


def todo_count(user, campaign, today: datetime.date) -> int:
    """How many lines the user's list holds, in one query."""
    w = Window(user, campaign, today)
    parts = [kind.rows(w).order_by().values_list("pk") for kind in KINDS]
    return parts[0].union(*parts[1:], all=True).count()


def todo_summary(user, campaign, today: datetime.date) -> list[tuple[Kind, int]]:
    """How many lines of each kind the user's list holds (kinds with none left out)."""
    w = Window(user, campaign, today)
    counts = ((kind, kind.rows(w).count()) for kind in KINDS)
    return [(kind, n) for kind, n in counts if n]


def overdue_figures(user, campaign, today: datetime.date) -> list[tuple[Kind, int]]:
    """What is overdue across everything the user sees, kind by kind, whoever may act on it."""
    w = Window(user, campaign, today, overview=True)
    return [(kind, kind.rows(w).count()) for kind in KINDS if kind.figure]


def scope_figures(targets: QuerySet) -> dict:
    """The targets' count by state, with the pilots, the priorities and the share closed, in one query."""
    counts = targets.aggregate(
        total=Count("pk"), pilots=Count("pk", filter=Q(is_pilot=True)),
        priorities=Count("pk", filter=Q(priority_rank__gt=0)),
        **{state: Count("pk", filter=Q(state=state)) for state in State.values})
    total = counts.pop("total")
    pilots, priorities = counts.pop("pilots"), counts.pop("priorities")
    return {"total": total, "pilots": pilots, "priorities": priorities,
            "states": [(State(state).label, state, n) for state, n in counts.items()],
            "closed_pct": round(100 * sum(counts[s] for s in DONE_STATES) / total) if total else 0}


def petition_figures(user, campaign, today: datetime.date) -> dict:
    """The open petitions the user sees: how many, how many flagged as a stability risk, how
    many open longer than the campaign's limit; one query."""
    since = today - datetime.timedelta(days=campaign.petition_open_limit_days())
    return Petition.objects.filter(visible_q(user, "target__"), target__campaign=campaign).exclude(
        status=Petition.Status.CLOSED).aggregate(
        open=Count("pk"), risk=Count("pk", filter=Q(stability_risk=True)),
        late=Count("pk", filter=Q(received_on__lt=since)))


# --- the home page -------------------------------------------------------------------------------

def home_figures(user, campaign, today: datetime.date) -> dict:
    """What the home page shows the user: its to-do by kind, the figures of what it sees against
    the next milestone, what is overdue there, the street a liaison leader follows (with the
    district leader the preset names for it), the petitions for discipline inspection, and the
    street and system ledgers it may open."""
    figures = scope_figures(ledger_targets(user, campaign))
    # The next milestone, or the last once all are past.
    milestone = (campaign.milestones.filter(due_on__gte=today).first()
                 or campaign.milestones.order_by("due_on").last())
    streets = liaison_streets(user, campaign)
    return {
        "todo": todo_summary(user, campaign, today), "figures": figures,
        "overdue": overdue_figures(user, campaign, today), "milestone": milestone,
        "behind": bool(milestone and milestone.required_pct and figures["closed_pct"] < milestone.required_pct),
        "whole_campaign": sees_whole_campaign(user, campaign),
        "scope_units": [m.unit for m in memberships(user) if m.unit.campaign_id == campaign.pk],
        "liaison_streets": streets,
        "liaison_leaders": list(Liaison.objects.filter(street__in=streets).select_related("street")) if streets else [],
        "petitions": (petition_figures(user, campaign, today)
                      if may_in_campaign(user, campaign, Action.OVERDUE_WATCH) else None),
        "ledgers": list(OrgUnit.objects.filter(units_visible_q(user), campaign=campaign,
                                               kind__in=[OrgUnit.Kind.STREET, OrgUnit.Kind.SYSTEM])),
    }
