"""People and money (tenants cleared, people moved, jobs, funds, m² demolished and recovered)."""

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, visible_q
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError
from taizhang.ledger.services import targets_lock

from .models import Outcome
from .snapshots import OUTCOME

AMOUNTS = ("tenants_cleared", "people_moved", "people_employed", "funds_paid", "demolished_area", "land_recovered")


class OutcomeError(ServiceError):
    """A refused record of people and money."""


@atomic
def outcome_record(*, target, actor, stage: str, values: dict) -> Outcome:
    """Record (or correct) the figures of one stage for a target."""
    return outcomes_record(actor=actor, items=[{"target": target, "stage": stage, "values": values}])[0]


@atomic
def outcomes_record(*, actor, items: list[dict]) -> list[Outcome]:
    """Record (or correct) the figures of several targets at once, all or none, each as
    `outcome_record` records one. Each item: target, stage, values."""
    for item in items:
        if not may(actor, item["target"], Action.OUTCOME_RECORD):
            raise OutcomeError(_("Your role may not record people and money for this target."))
        if item["stage"] not in Outcome.Stage.values:
            raise OutcomeError(_("Unknown stage “%(stage)s”.") % {"stage": item["stage"]})
    if len({(item["target"].pk, item["stage"]) for item in items}) != len(items):
        raise OutcomeError(_("A target's stage comes once in a round."))
    # The targets first (one lock order everywhere): two first records of a stage at once then take
    # turns, and the second corrects the first's row instead of inserting a duplicate.
    targets_lock([item["target"].pk for item in items])
    stored = {(o.target_id, o.stage): o for o in Outcome.objects.filter(
        target__in=[item["target"] for item in items], stage__in={item["stage"] for item in items})}
    rows = []
    for item in items:
        target, stage, values = item["target"], item["stage"], item["values"]
        outcome = stored.get((target.pk, stage))
        before = OUTCOME.snapshot(outcome) if outcome else None
        if outcome is None:
            outcome = Outcome(target=target, stage=stage, recorded_by=actor)
        for field in AMOUNTS:
            setattr(outcome, field, values.get(field, getattr(outcome, field)))
        outcome.recorded_by = actor
        outcome.full_clean(validate_unique=False)
        outcome.save()
        rows.append((outcome, before))
    changelog_append(changes=[OUTCOME.change(outcome, "update" if before else "create", before,
                                             OUTCOME.snapshot(outcome)) for outcome, before in rows],
                     actor=actor, reason=_("people and money recorded"))
    return [outcome for outcome, _before in rows]


def outcome_totals(user, campaign, by: str) -> list[dict]:
    """Totals per street or per system and stage, over the targets the user may see."""
    group = "target__%s__name" % by
    rows = (Outcome.objects.filter(visible_q(user, "target__"), target__campaign=campaign)
            .values(group, "stage").annotate(targets=Count("target", distinct=True),
                                             **{f: Sum(f) for f in AMOUNTS})
            .order_by("target__%s__sort" % by, group, "stage"))
    return [{"unit": row.pop(group), **row} for row in rows]
