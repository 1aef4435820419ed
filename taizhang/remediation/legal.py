"""The legal path per lease (解除租赁合同 → 曝光 → 调研, 立案, 起诉, 审理, 执行): writes and reads.

Each write re-reads the lease under a write lock, checks the order of the path on what it
read, then saves with its change-log entry: a step is refused, with the field named and
nothing changed, when the one before it is missing or its date would come first.
"""

import datetime

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, visible_q
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.snapshots import change, snapshot
from taizhang.ledger.models import Target

from .checks import RemediationError, check_day, clean, label, lock, refuse
from .models import Lease, LegalStep

# The judicial stages in the order they must be taken.
STAGES = tuple(LegalStep.Stage.values)


# --- who may act -----------------------------------------------------------------------

def may_record_lease(user, target: Target) -> bool:
    """Street staff, the rights unit and the HQ office keep the leases, notices and answers."""
    return may(user, target, Action.LEASE_RECORD)


def may_record_judicial(user, target: Target) -> bool:
    """The judicial steps also by the working group with the legal duty (政策法规组), which acts
    across the campaign."""
    return may(user, target, Action.JUDICIAL_RECORD)


# --- change log ------------------------------------------------------------------------

def _log(obj, action: str, before, actor, reason: str) -> None:
    after = None if action == "delete" else snapshot(obj)
    changelog_append(changes=[change(obj, action, before, after)], actor=actor, reason=reason)


def _save_lease(lease: Lease, before: dict, fields: list[str], actor, reason: str) -> Lease:
    clean(lease)
    lease.save(update_fields=fields)
    _log(lease, "update", before, actor, reason)
    return lease


# --- writes ----------------------------------------------------------------------------

@atomic
def lease_record(*, target: Target, actor, lessee: str, kind: str = Lease.Kind.BUILDING,
                 ends_on: datetime.date | None = None, notes: str = "") -> Lease:
    """Put a land or building lease of the target on the legal path."""
    if not may_record_lease(actor, target):
        raise RemediationError(_("Your role may not record leases on this target."))
    lease = Lease(target=target, lessee=lessee.strip(), kind=kind, ends_on=ends_on, notes=notes)
    clean(lease)
    lease.save()
    _log(lease, "create", None, actor, _("lease recorded"))
    return lease


@atomic
def lease_notice(*, lease: Lease, actor, sent_on: datetime.date) -> Lease:
    """The termination notice (解除租赁合同通知) went out on `sent_on`."""
    if not may_record_lease(actor, lease.target):
        raise RemediationError(_("Your role may not record the legal path of this target."))
    lease = lock(Lease, lease.pk)
    if lease.notice_sent_on:
        raise refuse(Lease, "notice_sent_on", _("already recorded (%(day)s)."), day=lease.notice_sent_on.isoformat())
    check_day(Lease, "notice_sent_on", sent_on)
    before = snapshot(lease)
    lease.notice_sent_on = sent_on
    return _save_lease(lease, before, ["notice_sent_on"], actor, _("termination notice sent"))


@atomic
def lease_answer(*, lease: Lease, actor, answer: str, answered_on: datetime.date) -> Lease:
    """The lessee agreed to end the lease, or refused."""
    if not may_record_lease(actor, lease.target):
        raise RemediationError(_("Your role may not record the legal path of this target."))
    lease = lock(Lease, lease.pk)
    if not lease.notice_sent_on:
        raise refuse(Lease, "answer", _("record the termination notice first."))
    if lease.answer != Lease.Answer.PENDING:
        raise refuse(Lease, "answer", _("already recorded (%(answer)s)."), answer=lease.get_answer_display())
    if answer not in (Lease.Answer.AGREED, Lease.Answer.REFUSED):
        raise refuse(Lease, "answer", _("choose agreed or refused."))
    check_day(Lease, "answered_on", answered_on, after=lease.notice_sent_on,
              after_what=label(Lease, "notice_sent_on"))
    before = snapshot(lease)
    lease.answer, lease.answered_on = answer, answered_on
    return _save_lease(lease, before, ["answer", "answered_on"], actor, _("answer to the termination notice"))


@atomic
def lease_expose(*, lease: Lease, actor, exposed_on: datetime.date) -> Lease:
    """The refusal was made public (曝光)."""
    if not may_record_lease(actor, lease.target):
        raise RemediationError(_("Your role may not record the legal path of this target."))
    lease = lock(Lease, lease.pk)
    if lease.answer != Lease.Answer.REFUSED:
        raise refuse(Lease, "exposed_on", _("only after the lessee refused the termination."))
    if lease.exposed_on:
        raise refuse(Lease, "exposed_on", _("already recorded (%(day)s)."), day=lease.exposed_on.isoformat())
    check_day(Lease, "exposed_on", exposed_on, after=lease.answered_on, after_what=label(Lease, "answered_on"))
    before = snapshot(lease)
    lease.exposed_on = exposed_on
    return _save_lease(lease, before, ["exposed_on"], actor, _("exposure (曝光)"))


def _previous(lease: Lease, stage: str, steps: dict) -> tuple[datetime.date | None, str]:
    """The day the stage may start from and what that day is, or (None, why it may not start yet)."""
    index = STAGES.index(stage)
    if index == 0:
        if lease.answer != Lease.Answer.REFUSED:
            return None, _("judicial steps start only after the lessee refused the termination.")
        return lease.answered_on, label(Lease, "answered_on")
    previous = steps.get(STAGES[index - 1])
    name = LegalStep.Stage(STAGES[index - 1]).label
    if previous is None or previous.done_on is None:
        return None, _("“%(stage)s” can start only once “%(previous)s” is done.") % {
            "stage": LegalStep.Stage(stage).label, "previous": name}
    return previous.done_on, name


@atomic
def legal_step_open(*, lease: Lease, actor, stage: str, due_on: datetime.date | None = None, court: str = "",
                    case_number: str = "") -> LegalStep:
    """Start the next judicial stage of a lease, with the day it is due."""
    if not may_record_judicial(actor, lease.target):
        raise RemediationError(_("Your role may not record judicial steps on this target."))
    lease = lock(Lease, lease.pk)
    if stage not in STAGES:
        raise refuse(LegalStep, "stage", _("unknown stage “%(stage)s”."), stage=stage)
    steps = {s.stage: s for s in lease.legal_steps.all()}
    if stage in steps:
        raise refuse(LegalStep, "stage", _("“%(stage)s” is already recorded for this lease."),
                     stage=LegalStep.Stage(stage).label)
    since, what = _previous(lease, stage, steps)
    if since is None:
        raise refuse(LegalStep, "stage", "%(why)s", why=what)
    if due_on is not None and due_on < since:
        raise refuse(LegalStep, "due_on", _("cannot be before %(what)s (%(day)s)."), what=what,
                     day=since.isoformat())
    step = LegalStep(lease=lease, stage=stage, due_on=due_on, court=court.strip(), case_number=case_number.strip())
    clean(step)
    step.save()
    _log(step, "create", None, actor, _("judicial step opened"))
    return step


@atomic
def legal_step_done(*, step: LegalStep, actor, done_on: datetime.date, court: str | None = None,
                    case_number: str | None = None, result: str | None = None) -> LegalStep:
    """A judicial stage is done: the day, and the court, case number and result as they stand."""
    if not may_record_judicial(actor, step.lease.target):
        raise RemediationError(_("Your role may not record judicial steps on this target."))
    lease = lock(Lease, step.lease_id)
    steps = {s.stage: s for s in lease.legal_steps.all()}
    step = next(s for s in steps.values() if s.pk == step.pk)
    if step.done_on:
        raise refuse(LegalStep, "done_on", _("already recorded (%(day)s)."), day=step.done_on.isoformat())
    since, what = _previous(lease, step.stage, steps)
    check_day(LegalStep, "done_on", done_on, after=since, after_what=what)
    before = snapshot(step)
    step.done_on = done_on
    fields = ["done_on"]
    for name, value in (("court", court), ("case_number", case_number), ("result", result)):
        if value is not None:
            setattr(step, name, value.strip())
            fields.append(name)
    clean(step)
    step.save(update_fields=fields)
    _log(step, "update", before, actor, _("judicial step done"))
    return step


# --- reads -----------------------------------------------------------------------------

def target_leases(target: Target) -> list[tuple[Lease, list[LegalStep], str | None]]:
    """Each lease of the target with its judicial steps and the stage it may open next (or None)."""
    rows = []
    for lease in target.leases.prefetch_related("legal_steps"):
        steps = list(lease.legal_steps.all())
        by_stage = {s.stage: s for s in steps}
        upcoming = next((s for s in STAGES if s not in by_stage), None)
        if upcoming is not None and _previous(lease, upcoming, by_stage)[0] is None:
            upcoming = None
        rows.append((lease, steps, upcoming))
    return rows


def legal_steps(user, campaign, *, stage: str = "", overdue: bool = False):
    """Judicial steps on targets the user sees, earliest due first (undated last)."""
    steps = LegalStep.objects.filter(visible_q(user, prefix="lease__target__"), lease__target__campaign=campaign)
    if stage:
        steps = steps.filter(stage=stage)
    if overdue:
        steps = steps.filter(done_on__isnull=True, due_on__lt=timezone.localdate())
    return steps.select_related("lease__target__street").order_by(F("due_on").asc(nulls_last=True), "id")
