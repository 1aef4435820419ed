"""The remediation path of a target: one table of allowed steps and one function that takes them.

Each step names the roles that may take it and the condition it needs. Conditions are
about records the remediation app owns (a confirmed verification, an approved plan, a
passed acceptance), so the caller passes the checks in; this module only knows their names.
A step is a conditional UPDATE on (pk, state): of two people acting at once exactly one
moves the target, and the other is told.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import Membership
from taizhang.accounts.scoping import acting_q
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ConflictError, ServiceError

from .models import Target, TransitionEvent
from .services import target_change, target_lock, target_snapshot

S = Target.State
R = Membership.Role
OPEN = (S.REGISTERED, S.VERIFIED, S.PLAN_APPROVED, S.IN_REMEDIATION, S.COMPLETION_REPORTED, S.REBOUND)


@dataclass(frozen=True)
class Step:
    """An allowed move from one state to another."""

    source: str
    target: str
    roles: frozenset
    condition: str | None = None
    label: str = ""
    # Taken by the service that records its evidence (an acceptance, a re-inspection),
    # so the work page offers that form instead of a bare button.
    by_service: bool = False


STEPS = (
    Step(S.REGISTERED, S.VERIFIED, frozenset({R.STREET, R.OFFICE}), "verification_confirmed",
         gettext_lazy("Mark verified")),
    Step(S.VERIFIED, S.PLAN_APPROVED, frozenset({R.OFFICE}), "plan_approved", gettext_lazy("Mark plan approved")),
    Step(S.PLAN_APPROVED, S.IN_REMEDIATION, frozenset({R.STREET, R.OFFICE, R.UNIT}), None,
         gettext_lazy("Start remediation")),
    Step(S.IN_REMEDIATION, S.COMPLETION_REPORTED, frozenset({R.STREET, R.UNIT, R.OFFICE}), None,
         gettext_lazy("Report completion")),
    Step(S.COMPLETION_REPORTED, S.CLOSED, frozenset({R.OFFICE}), "acceptance_passed",
         gettext_lazy("Close the account (销账)"), by_service=True),
    Step(S.COMPLETION_REPORTED, S.IN_REMEDIATION, frozenset({R.OFFICE}), "acceptance_failed",
         gettext_lazy("Return to remediation"), by_service=True),
    Step(S.CLOSED, S.REBOUND, frozenset({R.OFFICE}), "reinspection_failed", gettext_lazy("Record rebound"),
         by_service=True),
    Step(S.REBOUND, S.IN_REMEDIATION, frozenset({R.STREET, R.OFFICE}), None, gettext_lazy("Remediate again")),
    *(Step(state, S.ON_HOLD, frozenset({R.OFFICE}), "hold_reason", gettext_lazy("Put on hold")) for state in OPEN),
)
# Leaving hold goes back to the state the target was held from.
RESUME = Step(S.ON_HOLD, "", frozenset({R.OFFICE}), None, gettext_lazy("Resume"))


class TransitionRefused(ServiceError):
    """A step that may not be taken; the message says which condition is missing."""


class TransitionConflict(TransitionRefused, ConflictError):
    """The target moved since the caller saw it."""


def find_step(source: str, target: str, held_from: str = "") -> Step | None:
    """The step from `source` to `target`; leaving hold goes only back to `held_from`."""
    if source == S.ON_HOLD:
        return RESUME if target and target == held_from else None
    return next((s for s in STEPS if s.source == source and s.target == target), None)


def next_steps(target: Target) -> list[Step]:
    """The steps the workflow allows from the target's state (roles not yet checked)."""
    if target.state == S.ON_HOLD:
        return [replace(RESUME, target=target.held_from)]
    return [s for s in STEPS if s.source == target.state]


def may_act(user, target: Target, roles) -> bool:
    """Whether the user holds one of `roles` on this target (None is the system)."""
    if user is None:
        return True
    return Target.objects.filter(acting_q(user, roles), pk=target.pk).exists()


def may_take(user, target: Target, step: Step) -> bool:
    return may_act(user, target, step.roles)


Checks = Mapping[str, Callable[[Target], str | None]]


@atomic
def target_transition(*, target: Target, to: str, actor, comment: str = "", checks: Checks | None = None,
                      hold_reason: str = "", hold_review_on=None) -> TransitionEvent:
    """Move a target one step from the state the caller saw it in (`target.state`) to `to`;
    refuses with the missing condition, or when the target moved meanwhile.

    `checks` maps a condition name to a function returning what is missing (None when met).
    The step is decided, and the change logged, from the target read under its row lock, so
    the log says what the row held, whatever else was written at the same moment.
    """
    source = target.state
    current = target_lock(target.pk)
    if current.state != source:
        raise TransitionConflict(_("Someone else moved this target meanwhile (it is no longer “%(state)s”); "
                                   "reload the page.") % {"state": S(source).label})
    step = find_step(source, to, current.held_from)
    if step is None:
        raise TransitionRefused(_("A target cannot go from “%(from)s” to “%(to)s”.") % {
            "from": S(source).label, "to": S(to).label if to in S.values else to})
    if not may_take(actor, current, step):
        raise TransitionRefused(_("Your role may not take this step on this target."))
    if step.condition == "hold_reason":
        if not hold_reason.strip() or hold_review_on is None:
            raise TransitionRefused(_("Putting a target on hold needs a reason and a review date."))
    elif step.condition:
        check = (checks or {}).get(step.condition)
        missing = check(current) if check else _("condition “%(name)s” cannot be checked here") % {
            "name": step.condition}
        if missing:
            raise TransitionRefused(missing)
    event = _move(current, to, actor, comment, hold_reason=hold_reason, hold_review_on=hold_review_on)
    target.refresh_from_db()
    return event


def _move(current: Target, to, actor, comment, *, hold_reason, hold_review_on) -> TransitionEvent:
    source = current.state
    before = target_snapshot(current) | _hold(current)
    holding = to == S.ON_HOLD
    fields = {"state": to, "held_from": source if holding else "", "hold_reason": hold_reason if holding else "",
              "hold_review_on": hold_review_on if holding else None, "updated_at": timezone.now(),
              "version": current.version + 1}
    # Conditional on what was read: a writer that bypassed the lock is caught, not logged over.
    moved = Target.objects.filter(pk=current.pk, state=source, version=current.version).update(**fields)
    if moved != 1:
        raise TransitionConflict(_("Someone else moved this target meanwhile (it is no longer “%(state)s”); "
                                   "reload the page.") % {"state": S(source).label})
    for name, value in fields.items():
        setattr(current, name, value)
    event = TransitionEvent.objects.create(target=current, from_state=source, to_state=to, actor=actor,
                                           comment=comment)
    changelog_append(changes=[target_change(current, "update", before, target_snapshot(current) | _hold(current))],
                     actor=actor, reason=comment or "%s → %s" % (S(source).label, S(to).label))
    return event


def _hold(target: Target) -> dict:
    return {"held_from": target.held_from, "hold_reason": target.hold_reason,
            "hold_review_on": target.hold_review_on.isoformat() if target.hold_review_on else None}
