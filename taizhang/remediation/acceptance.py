"""Acceptance (验收) and re-inspections against rebound (长效管控): the writes and the reads.

A passed acceptance closes the account (销账) and schedules re-inspections at the days the
preset gives (`[anti_rebound] reinspect_after_days`), counted from the closing day. A failed
re-inspection moves the target to rebound at once and cancels the visits still pending; the
next closing schedules a fresh series.

The rebound step is taken by the system (actor None), not by the inspector: it is automatic,
caused by the inspection, and the workflow keeps the manual CLOSED → REBOUND step for the HQ
office alone. Who inspected is kept on the inspection, in its change-log entry and in the
step's comment, so the timeline still names them.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, visible_q
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.ledger.models import Target
from taizhang.ledger.services import targets_lock

from .checks import RemediationError
from .models import Acceptance, Inspection, TransitionEvent
from .snapshots import ACCEPTANCE, INSPECTION
from .workflow import target_step, targets_step

State = Target.State


@atomic
def acceptance_record(*, target: Target, actor, decision: str, reasons: str = "", tenants_cleared: bool = False,
                      structures_demolished: bool = False, demolished_area=None, site_cleaned: bool = False,
                      land_returned: bool = False) -> Acceptance:
    """The HQ office checks reported completion.

    Passed: the target is closed (销账) and its re-inspections are scheduled. Failed: it goes
    back to remediation with the reasons as the step's comment.
    """
    return acceptances_record(actor=actor, items=[{
        "target": target, "decision": decision, "reasons": reasons, "tenants_cleared": tenants_cleared,
        "structures_demolished": structures_demolished, "demolished_area": demolished_area,
        "site_cleaned": site_cleaned, "land_returned": land_returned}])[0]


def _named(errors: list[tuple[Target, dict]], items: list) -> ValidationError:
    """The problems of a call: as they are for one target, each naming its target for several."""
    if len(items) == 1:
        return ValidationError(errors[0][1])
    named: dict[str, list[str]] = {}
    for target, problems in errors:
        for field, messages in problems.items():
            named.setdefault(field, []).extend("%s: %s" % (target.code, m) for m in messages)
    return ValidationError(named)


def _locked(targets: list[Target], state: str, refused) -> None:
    """Lock the targets (first: one lock order everywhere), bring the callers' objects up to date
    and refuse unless each is in `state`; `refused(target)` says why, for one."""
    if len({t.pk for t in targets}) != len(targets):
        raise RemediationError(_("A target comes once in a round."))
    targets_lock([t.pk for t in targets])
    for target in targets:
        target.refresh_from_db()
        if target.state != state:
            message = refused(target)
            raise RemediationError(message if len(targets) == 1 else "%s: %s" % (target.code, message))


@atomic
def acceptances_record(*, actor, items: list[dict]) -> list[Acceptance]:
    """Acceptance of several targets at once (the office's acceptance round), all or none: each
    checked as `acceptance_record` checks one, the closed ones' re-inspections scheduled together.

    Each item: target, decision, and the acceptance's fields (reasons, tenants_cleared, ...).
    """
    targets = [item["target"] for item in items]
    for target in targets:
        if not may(actor, target, Action.ACCEPTANCE_RECORD):
            raise RemediationError(_("Only the HQ office accepts the work on a target."))
    _locked(targets, State.COMPLETION_REPORTED, lambda target: _(
        "Acceptance needs a target in “%(needed)s”; this one is “%(state)s”.") % {
        "needed": State.COMPLETION_REPORTED.label, "state": target.get_state_display()})
    acceptances, errors = [], []
    for item in items:
        fields = {k: v for k, v in item.items() if k != "target"}
        acceptance = Acceptance(target=item["target"], decided_by=actor, **dict(fields, reasons=fields.get(
            "reasons", "").strip()))
        problems = {}
        try:
            acceptance.full_clean()
        except ValidationError as exc:
            problems = exc.message_dict
        if acceptance.decision == Acceptance.Decision.FAILED and not acceptance.reasons:
            problems.setdefault("reasons", []).append(_("A failed acceptance needs its reasons."))
        if problems:
            errors.append((item["target"], problems))
        acceptances.append(acceptance)
    if errors:
        raise _named(errors, items)
    acceptances = Acceptance.objects.bulk_create(acceptances)
    changelog_append(changes=[ACCEPTANCE.created(a) for a in acceptances], actor=actor, reason=_("acceptance recorded"))
    passed = [a.target for a in acceptances if a.decision == Acceptance.Decision.PASSED]
    failed = [a for a in acceptances if a.decision != Acceptance.Decision.PASSED]
    if passed:
        targets_step(targets=passed, to=State.CLOSED, actor=actor, comments=[_("Acceptance passed.")] * len(passed))
        _inspections_schedule(targets=passed, actor=actor, closed_on=timezone.localdate())
    if failed:
        targets_step(targets=[a.target for a in failed], to=State.IN_REMEDIATION, actor=actor,
                     comments=[a.reasons for a in failed])
    return acceptances


def _inspections_schedule(*, targets: list[Target], actor, closed_on: datetime.date) -> list[Inspection]:
    """A fresh series of re-inspections from the closing day, at the preset's falling frequency."""
    rows = Inspection.objects.bulk_create(
        Inspection(target=target, due_on=closed_on + datetime.timedelta(days=d))
        for target in targets for d in (target.campaign.rules.get("anti_rebound") or {}).get(
            "reinspect_after_days") or [])
    changelog_append(changes=[INSPECTION.change(i, "create", None, INSPECTION.snapshot(i)) for i in rows],
                     actor=actor, reason=_("re-inspections scheduled"))
    return rows


def _inspections_cancel(*, target: Target, actor) -> int:
    """Drop the visits still pending: a rebounded target is remediated again, then re-scheduled."""
    pending = list(Inspection.objects.filter(target=target, done_on__isnull=True))
    changelog_append(changes=[INSPECTION.change(i, "delete", INSPECTION.snapshot(i), None) for i in pending],
                     actor=actor, reason=_("re-inspections cancelled: the target rebounded"))
    Inspection.objects.filter(pk__in=[i.pk for i in pending]).delete()
    return len(pending)


def _closed_on(targets: list[Target]) -> dict[int, datetime.date]:
    """{target id: the day it was last closed}, for those ever closed."""
    last = (TransitionEvent.objects.filter(target__in=targets, to_state=State.CLOSED).values("target")
            .annotate(at=Max("at")).values_list("target", "at"))
    return {pk: timezone.localdate(at) for pk, at in last}


@atomic
def inspection_record(*, target: Target, actor, passed: bool, findings: str = "",
                      done_on: datetime.date | None = None) -> Inspection:
    """A re-inspection of a closed target; a failed one moves the target to rebound.

    It fills the earliest visit still pending; a visit off the schedule gets its own row.
    """
    return inspections_record(actor=actor, items=[{"target": target, "passed": passed, "findings": findings,
                                                   "done_on": done_on}])[0]


@atomic
def inspections_record(*, actor, items: list[dict]) -> list[Inspection]:
    """Re-inspections of several closed targets at once (an inspection round), all or none: each
    checked and recorded as `inspection_record` records one; each failed one moves its target to
    rebound. Each item: target, passed, findings, done_on (None: today)."""
    targets = [item["target"] for item in items]
    for target in targets:
        if not may(actor, target, Action.INSPECTION_RECORD):
            raise RemediationError(_("Only the street sub-command or the HQ office records a re-inspection."))
    _locked(targets, State.CLOSED, lambda target: _(
        "A re-inspection is recorded on a closed target only; this one is “%(state)s”.") % {
        "state": target.get_state_display()})
    today = timezone.localdate()
    closed = _closed_on(targets)
    pending = {}
    for visit in Inspection.objects.filter(target__in=targets, done_on__isnull=True).order_by("due_on", "id"):
        pending.setdefault(visit.target_id, visit)
    rows, errors = [], []
    for item in items:
        target, passed = item["target"], item["passed"]
        findings, done_on = (item.get("findings") or "").strip(), item.get("done_on") or today
        problems = {}
        if not isinstance(passed, bool):
            problems["passed"] = [_("Say whether the re-inspection passed.")]
        elif not passed and not findings:
            problems["findings"] = [_("A failed re-inspection needs its findings.")]
        if done_on > today:
            problems["done_on"] = [_("A re-inspection cannot be dated in the future.")]
        elif target.pk in closed and done_on < closed[target.pk]:
            problems["done_on"] = [_("A re-inspection cannot predate the closing (%(day)s).") % {
                "day": closed[target.pk].isoformat()}]
        if problems:
            errors.append((target, problems))
            continue
        inspection = pending.get(target.pk) or Inspection(target=target, due_on=done_on)
        inspection.target = target  # the caller's object, which the rebound step brings up to date
        before = INSPECTION.snapshot(inspection) if inspection.pk else None
        done = {"done_on": done_on, "passed": passed, "findings": findings, "inspector": actor}
        for field, value in done.items():
            setattr(inspection, field, value)
        inspection.full_clean()
        rows.append((inspection, before, done))
    if errors:
        raise _named(errors, items)
    for inspection, before, done in rows:
        if before is None:
            inspection.save()
        # Conditional: two inspectors filling the same visit at once do not overwrite each other.
        elif Inspection.objects.filter(pk=inspection.pk, done_on__isnull=True).update(**done) != 1:
            raise RemediationError(_("Someone recorded this re-inspection meanwhile; reload the page."))
    changelog_append(changes=[INSPECTION.change(i, "update" if before else "create", before, INSPECTION.snapshot(i))
                              for i, before, _done in rows], actor=actor, reason=_("re-inspection recorded"))
    for inspection, _before, _done in rows:
        if inspection.passed:
            continue
        target = inspection.target
        _inspections_cancel(target=target, actor=actor)
        target_step(target=target, to=State.REBOUND, actor=None, comment=_(
            "Rebound found by the re-inspection of %(day)s (inspector %(inspector)s): %(findings)s") % {
            "day": inspection.done_on.isoformat(), "inspector": actor.get_username() if actor else _("system"),
            "findings": inspection.findings})
    return [inspection for inspection, _before, _done in rows]


# Reads. Lists across targets start from the scoping rule, through the target.

def target_acceptances(target: Target):
    return (Acceptance.objects.filter(target=target).select_related("decided_by").prefetch_related("photos")
            .order_by("-decided_at", "-id"))


def target_inspections(target: Target):
    return Inspection.objects.filter(target=target).select_related("inspector").order_by("due_on", "id")


def inspections_overdue(user, campaign, on: datetime.date):
    """Visits due before `on` and not done, on closed targets the user sees, street by street."""
    return (Inspection.objects.filter(visible_q(user, prefix="target__"), target__campaign=campaign,
                                      target__state=State.CLOSED, done_on__isnull=True, due_on__lt=on)
            .select_related("target", "target__street")
            .order_by("target__street__sort", "target__street__code", "due_on", "target__code", "id"))


def rebound_rates(targets) -> dict:
    """Rebounded targets / targets ever closed, by street, by system and in all, counted in the database.

    A target counts as ever closed (or rebounded) when it is in that state now, or when its
    timeline shows it moved there; a target that rebounded and was closed again counts once in each.
    """
    def moved_to(state):
        return Exists(TransitionEvent.objects.filter(target=OuterRef("pk"), to_state=state))

    counts = {
        "closed": Count("pk", filter=Q(state__in=[State.CLOSED, State.REBOUND]) | Q(moved_to(State.CLOSED))),
        "rebounded": Count("pk", filter=Q(state=State.REBOUND) | Q(moved_to(State.REBOUND))),
    }
    rows = {
        kind: list(targets.values(field, label=F(field + "__name")).annotate(**counts)
                   .order_by(field + "__sort", field + "__code"))
        for kind, field in (("street", "street"), ("system", "system"))
    }
    rows["total"] = [dict(targets.aggregate(**counts), label=_("All targets"))]
    for row in (*rows["street"], *rows["system"], *rows["total"]):
        row["pct"] = 100 * row["rebounded"] / row["closed"] if row["closed"] else None
    return rows
