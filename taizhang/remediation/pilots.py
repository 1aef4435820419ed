"""Pilots (试点): marking them against the preset's quota, their lessons, and how they compare."""

from collections import Counter, defaultdict

from django.db.models import Count, Min, Q
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may
from taizhang.campaigns.models import OrgUnit
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_lock, target_update

from .models import PilotLesson, Plan
from .snapshots import PILOT_LESSON

State = Target.State


class PilotError(ServiceError):
    """A refused pilot action."""


@atomic
def pilot_mark(*, target: Target, actor, is_pilot: bool) -> list[str]:
    """Mark or unmark a pilot; returns quota warnings for its street and its system."""
    if not may(actor, target, Action.PILOT_MARK):
        raise PilotError(_("Your role may not choose pilots for this target."))
    if target_lock(target.pk).is_pilot != is_pilot:
        target_update(target=target, actor=actor, changes={"is_pilot": is_pilot},
                      reason=_("pilot chosen") if is_pilot else _("pilot withdrawn"))
    return quota_warnings(target.campaign, units=[target.street, target.system])


def quota_warnings(campaign, units=None) -> list[str]:
    """The preset's 1–2 pilots per street and per system, checked; a warning per unit outside it."""
    quota = campaign.rules.get("pilots", {})
    if units is None:
        units = OrgUnit.objects.filter(campaign=campaign, kind__in=[OrgUnit.Kind.STREET, OrgUnit.Kind.SYSTEM])
    counts = dict(Target.objects.filter(campaign=campaign, is_pilot=True).values_list("street").annotate(n=Count("pk")))
    counts.update(Target.objects.filter(campaign=campaign, is_pilot=True).values_list("system")
                  .annotate(n=Count("pk")))
    warnings = []
    for unit in units:
        kind = "street" if unit.kind == OrgUnit.Kind.STREET else "system"
        low, high = quota.get("per_%s_min" % kind), quota.get("per_%s_max" % kind)
        n = counts.get(unit.pk, 0)
        if (low is not None and n < low) or (high is not None and n > high):
            warnings.append(_("%(unit)s has %(n)s pilots; the quota is %(low)s–%(high)s.") % {
                "unit": unit.name, "n": n, "low": low, "high": high})
    return warnings


@atomic
def lesson_record(*, target: Target, actor, title: str, text: str) -> PilotLesson:
    """Record lessons learned (经验教训) on a pilot."""
    if not target.is_pilot:
        raise PilotError(_("Lessons are recorded on pilot targets only."))
    if not may(actor, target, Action.LESSON_RECORD):
        raise PilotError(_("Your role may not record lessons for this target."))
    lesson = PilotLesson(target=target, title=title.strip(), text=text.strip(), recorded_by=actor)
    lesson.full_clean()
    lesson.save()
    changelog_append(changes=[PILOT_LESSON.created(lesson)],
                     actor=actor, reason=_("pilot lesson recorded"))
    return lesson


def pilot_comparison(targets) -> list[dict]:
    """Pilots beside the rest: how many, closed, days to close, means used, legal steps needed."""
    rows = (targets.annotate(closed_at=Min("transitions__at", filter=Q(transitions__to_state=State.CLOSED)),
                             legal_steps=Count("leases__legal_steps", distinct=True))
            .values("pk", "is_pilot", "created_at", "closed_at", "legal_steps"))
    means = defaultdict(Counter)
    for target_id, used in Plan.objects.filter(target__in=targets, status=Plan.Status.APPROVED).values_list(
            "target__is_pilot", "means"):
        means[target_id].update(used)
    groups = {True: [], False: []}
    for row in rows:
        groups[row["is_pilot"]].append(row)
    result = []
    for is_pilot in (True, False):
        members = groups[is_pilot]
        closed = [r for r in members if r["closed_at"]]
        days = [(r["closed_at"] - r["created_at"]).days for r in closed]
        result.append({
            "is_pilot": is_pilot, "targets": len(members), "closed": len(closed),
            "avg_days": round(sum(days) / len(days), 1) if days else None,
            "avg_legal_steps": round(sum(r["legal_steps"] for r in members) / len(members), 2) if members else None,
            "means": means[is_pilot].most_common(),
        })
    return result
