"""The target's remediation path: its table of steps, the conditions they need, and the hold rule.

The mechanism (lock, conditional update, event and change-log entry in one transaction) is
core.transitions; who may take a step is the access rule's (accounts: each step names its
action). What is declared here is only what a target's path means: the steps, and the
conditions as plain functions of the locked target over the records this app keeps.
"""

from dataclasses import replace

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may
from taizhang.core.transitions import (
    EventFields,
    Machine,
    Step,
    TransitionRefused,
    offered,
    transition,
    transition_many,
)
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_change, target_lock, target_snapshot, targets_lock

from .models import Acceptance, Inspection, Plan, TransitionEvent, Verification

State = Target.State
OPEN_STATES = (State.REGISTERED, State.VERIFIED, State.PLAN_APPROVED, State.IN_REMEDIATION,
               State.COMPLETION_REPORTED, State.REBOUND)


# --- conditions: the locked target -> what is missing, or None --------------------------

def verification_confirmed(target: Target) -> str | None:
    if Verification.objects.filter(target=target, street_confirmed_at__isnull=False,
                                   holder_confirmed_at__isnull=False).exists():
        return None
    return _("A verification confirmed by both the street sub-command and the rights holder is needed first.")


def plan_approved(target: Target) -> str | None:
    # An approved version stays the plan in force until a newer one is approved (see plans.py).
    if Plan.objects.filter(target=target, status=Plan.Status.APPROVED).exists():
        return None
    return _("No approved plan (一院一策) for this target yet.")


def _acceptance_decided(decision: str, missing):
    """Met when the latest acceptance since the target last reported completion has this decision."""
    def check(target: Target) -> str | None:
        acceptances = Acceptance.objects.filter(target=target)
        reported_at = (TransitionEvent.objects.filter(target=target, to_state=State.COMPLETION_REPORTED)
                       .order_by("-at", "-id").values_list("at", flat=True).first())
        if reported_at is not None:
            acceptances = acceptances.filter(decided_at__gte=reported_at)
        latest = acceptances.order_by("-decided_at", "-id").values_list("decision", flat=True).first()
        return None if latest == decision else str(missing)
    return check


acceptance_passed = _acceptance_decided(Acceptance.Decision.PASSED,
                                        gettext_lazy("No passed acceptance for this target yet."))
acceptance_failed = _acceptance_decided(Acceptance.Decision.FAILED,
                                        gettext_lazy("No failed acceptance to return this target with."))


def reinspection_failed(target: Target) -> str | None:
    # Every failed re-inspection moves its target to rebound in the same transaction, so a failure
    # not yet matched by a rebound is the new one; older failures caused earlier rebounds.
    failed = Inspection.objects.filter(target=target, passed=False).count()
    if failed > TransitionEvent.objects.filter(target=target, to_state=State.REBOUND).count():
        return None
    return _("No failed re-inspection for this target since it was closed.")


# --- the table ----------------------------------------------------------------------------

STEPS = (
    Step(State.REGISTERED, State.VERIFIED, Action.STEP_VERIFY, verification_confirmed, gettext_lazy("Mark verified")),
    Step(State.VERIFIED, State.PLAN_APPROVED, Action.STEP_APPROVE_PLAN, plan_approved,
         gettext_lazy("Mark plan approved")),
    Step(State.PLAN_APPROVED, State.IN_REMEDIATION, Action.STEP_START, None, gettext_lazy("Start remediation")),
    Step(State.IN_REMEDIATION, State.COMPLETION_REPORTED, Action.STEP_REPORT_COMPLETION, None,
         gettext_lazy("Report completion")),
    Step(State.COMPLETION_REPORTED, State.CLOSED, Action.STEP_ACCEPT, acceptance_passed,
         gettext_lazy("Close the account (销账)"), by_service=True),
    Step(State.COMPLETION_REPORTED, State.IN_REMEDIATION, Action.STEP_ACCEPT, acceptance_failed,
         gettext_lazy("Return to remediation"), by_service=True),
    Step(State.CLOSED, State.REBOUND, Action.STEP_REBOUND, reinspection_failed, gettext_lazy("Record rebound"),
         by_service=True),
    Step(State.REBOUND, State.IN_REMEDIATION, Action.STEP_REMEDIATE_AGAIN, None, gettext_lazy("Remediate again")),
    # A hold needs a reason and a review date: `_written` asks for them.
    *(Step(state, State.ON_HOLD, Action.STEP_HOLD, None, gettext_lazy("Put on hold")) for state in OPEN_STATES),
)
# Leaving hold goes back to the state the target was held from (its `held_from`).
RESUME = Step(State.ON_HOLD, "", Action.STEP_RESUME, None, gettext_lazy("Resume"))


def _steps_from(machine: Machine, target: Target) -> list[Step]:
    if target.state == State.ON_HOLD:
        return [replace(RESUME, target=target.held_from)]
    return [s for s in machine.steps if s.source == target.state]


def _written(target: Target, step: Step, inputs) -> dict:
    """The hold fields every step writes: set when holding, cleared otherwise."""
    holding = step.target == State.ON_HOLD
    reason, review_on = inputs.get("hold_reason", ""), inputs.get("hold_review_on")
    if holding and (not reason.strip() or review_on is None):
        raise TransitionRefused(_("Putting a target on hold needs a reason and a review date."))
    return {"held_from": target.state if holding else "", "hold_reason": reason if holding else "",
            "hold_review_on": review_on if holding else None, "updated_at": timezone.now()}


MACHINE = Machine(
    model=Target, steps=STEPS, event_model=TransitionEvent, event_fields=EventFields(subject="target", at="at"),
    may=lambda actor, target, step: may(actor, target, step.who),
    snapshot=target_snapshot,  # the hold fields included (ledger.columns.TARGET)
    change=lambda target, before, after: target_change(target, "update", before, after),
    lock=target_lock, lock_many=targets_lock, steps_from=_steps_from, fields=_written,
)


def target_step(*, target: Target, to: str, actor, comment: str = "", hold_reason: str = "",
                hold_review_on=None) -> TransitionEvent:
    """Move a target one step from the state the caller saw it in (`target.state`) to `to`."""
    return transition(MACHINE, row=target, to=to, actor=actor, comment=comment,
                      inputs={"hold_reason": hold_reason, "hold_review_on": hold_review_on})


def targets_step(*, targets: list[Target], to: str, actor, comments: list[str] | None = None) -> list[TransitionEvent]:
    """`target_step` for many targets at once, all or none (a sitting's worth: the office
    approving a week's plans); each from the state the caller saw it in."""
    return transition_many(MACHINE, rows=targets, to=to, actor=actor, comments=comments)


def offered_steps(target: Target, actor) -> list[Step]:
    """The steps the work page offers as buttons to this actor."""
    return offered(MACHINE, target, actor)
