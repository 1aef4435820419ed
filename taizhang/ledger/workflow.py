"""The remediation path of a target: one table of allowed steps and one function that takes them.

Each step names the roles that may take it and the condition it needs. Conditions are
about records the remediation app owns (a confirmed verification, an approved plan, a
passed acceptance), so the caller passes the checks in; this module only knows their names.
A step is a conditional UPDATE on (pk, state): of two people acting at once exactly one
moves the target, and the other is told.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import Membership
from taizhang.accounts.scoping import acting_q
from taizhang.core.changelog import changelog_append

from .models import Target, TransitionEvent
from .services import target_change, target_snapshot

S = Target.State
R = Membership.Role
LABELS = ("target_type", "street", "system", "responsible_unit")
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


class TransitionRefused(Exception):
    """A step that may not be taken; the message says which condition is missing."""


def find_step(source: str, target: str) -> Step | None:
    if source == S.ON_HOLD:
        return RESUME
    return next((s for s in STEPS if s.source == source and s.target == target), None)


def next_steps(target: Target) -> list[Step]:
    """The steps the workflow allows from the target's state (roles not yet checked)."""
    if target.state == S.ON_HOLD:
        return [RESUME]
    return [s for s in STEPS if s.source == target.state]


def may_act(user, target: Target, roles) -> bool:
    """Whether the user holds one of `roles` on this target (None is the system)."""
    if user is None:
        return True
    return Target.objects.filter(acting_q(user, roles), pk=target.pk).exists()


def may_take(user, target: Target, step: Step) -> bool:
    return may_act(user, target, step.roles)


Checks = Mapping[str, Callable[[Target], str | None]]


@transaction.atomic
def target_transition(*, target: Target, to: str, actor, comment: str = "", checks: Checks | None = None,
                      hold_reason: str = "", hold_review_on=None) -> TransitionEvent:
    """Move a target one step; refuses with the missing condition or a concurrent move.

    `checks` maps a condition name to a function returning what is missing (None when met).
    """
    source = target.state
    step = find_step(source, to)
    if step is None:
        raise TransitionRefused(_("A target cannot go from “%(from)s” to “%(to)s”.") % {
            "from": S(source).label, "to": S(to).label if to in S.values else to})
    if not may_take(actor, target, step):
        raise TransitionRefused(_("Your role may not take this step on this target."))
    if step.condition == "hold_reason":
        if not hold_reason.strip() or hold_review_on is None:
            raise TransitionRefused(_("Putting a target on hold needs a reason and a review date."))
    elif step.condition:
        check = (checks or {}).get(step.condition)
        missing = check(target) if check else _("condition “%(name)s” cannot be checked here") % {
            "name": step.condition}
        if missing:
            raise TransitionRefused(missing)
    return _move(target, source, to if step is not RESUME else target.held_from, actor, comment,
                 hold_reason=hold_reason, hold_review_on=hold_review_on)


def _move(target, source, to, actor, comment, *, hold_reason, hold_review_on) -> TransitionEvent:
    # One read with the labels the snapshot needs, instead of one query per relation.
    current = Target.objects.select_related(*LABELS).get(pk=target.pk)
    before = target_snapshot(current) | _hold(current)
    holding = to == S.ON_HOLD
    fields = {"state": to, "held_from": source if holding else "", "hold_reason": hold_reason if holding else "",
              "hold_review_on": hold_review_on if holding else None, "updated_at": timezone.now()}
    moved = Target.objects.filter(pk=target.pk, state=source).update(version=F("version") + 1, **fields)
    if moved != 1:
        raise TransitionRefused(_("Someone else moved this target meanwhile (it is no longer “%(state)s”); "
                                  "reload the page.") % {"state": S(source).label})
    # The conditional update succeeded, so the row is `current` with these fields and one more version.
    fields["version"] = current.version + 1
    for obj in (current, target):
        for name, value in fields.items():
            setattr(obj, name, value)
    event = TransitionEvent.objects.create(target=current, from_state=source, to_state=to, actor=actor,
                                           comment=comment)
    changelog_append(changes=[target_change(current, "update", before, target_snapshot(current) | _hold(current))],
                     actor=actor, reason=comment or "%s → %s" % (S(source).label, S(to).label))
    return event


def _hold(target: Target) -> dict:
    return {"held_from": target.held_from, "hold_reason": target.hold_reason,
            "hold_review_on": target.hold_review_on.isoformat() if target.hold_review_on else None}
