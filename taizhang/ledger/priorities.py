"""Priorities (重点): which of the preset's priority rules a target meets, and so why it matters.

A rule is `{code, label, match, values}` from the preset's `[[priority_rules]]`; `match` says
what the values are compared with:

- "system": the target's ownership system code is one of the values;
- "street": its street code is one of the values;
- "area": a value occurs in its address, community or name (衙门口 in "衙门口路12号");
- "flag": one of its situation flags is one of the values.

A target's reasons are the labels of the rules it meets, in rule order; its rank is how
many it meets. Both are stored on the target (to filter and sort the ledger by them) and
kept current: the ledger's services set them on every write, and `priorities_evaluate`
recomputes a campaign's targets when the preset's rules change.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.campaigns.presets import PresetError

from .models import Target

# The target fields the rules read: a write that changes none of them keeps its priority.
RULE_FIELDS = frozenset({"street", "system", "address", "community", "name", "flags"})
CHUNK = 2000


def priority_reasons(rules: list[dict], *, system: str | None, street: str | None,
                     texts: Iterable[str], flags: Iterable[str]) -> list[str]:
    """The labels of the rules met by a target given as plain values (codes, not objects),
    so the same function serves one target, a bulk write and a change-log snapshot."""
    texts = [t for t in texts if t]
    flags = set(flags or ())
    reasons = []
    for rule in rules:
        values, match = rule["values"], rule["match"]
        if match == "system":
            met = system in values
        elif match == "street":
            met = street in values
        elif match == "area":
            met = any(v in text for v in values for text in texts)
        elif match == "flag":
            met = not flags.isdisjoint(values)
        else:
            met = False  # the preset loader refuses other kinds; an old stored rule is ignored
        if met:
            reasons.append(rule["label"])
    return reasons


def target_priority(target: Target, rules: list[dict]) -> list[str]:
    """`priority_reasons` of an unsaved or loaded target; uses its street and system as loaded."""
    return priority_reasons(
        rules, system=target.system.code if target.system_id else None,
        street=target.street.code if target.street_id else None,
        texts=(target.address, target.community, target.name), flags=target.flags)


def priority_set(target: Target, rules: list[dict]) -> bool:
    """Store the target's reasons and rank on the object (not in the database); True if they changed."""
    reasons = target_priority(target, rules)
    changed = reasons != target.priority_reasons or len(reasons) != target.priority_rank
    target.priority_reasons, target.priority_rank = reasons, len(reasons)
    return changed


def campaign_rules(campaign: Campaign) -> list[dict]:
    return campaign.rules.get("priority_rules", [])


def rule_problems(rules: list[dict]) -> list[str]:
    """Flag values no target can have: the preset loader cannot check them, the flags being the ledger's."""
    return [_("Key “%(key)s” names unknown situation flag “%(code)s”.")
            % {"key": "priority_rules[%d].values[%d]" % (r, v), "code": value}
            for r, rule in enumerate(rules) if rule["match"] == "flag"
            for v, value in enumerate(rule["values"]) if value not in Target.Flag.values]


def priorities_after_preset_load(campaign: Campaign) -> str:
    """Re-evaluate a campaign's targets after its preset loaded (campaigns.presets runs this
    hook in the load's transaction); a rule on an unknown flag refuses, undoing the load."""
    problems = rule_problems(campaign_rules(campaign))
    if problems:
        raise PresetError("; ".join(problems))
    changed = priorities_evaluate(campaign=campaign)
    return "%s: priorities changed for %d targets" % (campaign.slug, changed)


def priority_text(reasons: list[str]) -> str:
    """"重点：集体经济；古城街道；存在重大安全隐患", or "" for a target no rule picks out."""
    if not reasons:
        return ""
    return _("Priority: %(reasons)s") % {"reasons": "；".join(reasons)}


@transaction.atomic
def priorities_evaluate(*, campaign: Campaign, targets: QuerySet | Iterable[Target | int] | None = None) -> int:
    """Recompute the stored reasons and rank of a campaign's targets (all of them, a queryset,
    or a few targets or ids); returns how many changed.

    Not written to the change log, and the target's version is left alone: reasons and rank
    are derived from the preset (whose loading is logged) and from the target's own fields
    (whose every change is logged), so they can always be recomputed; bumping versions would
    turn every exported file into a conflict after a preset reload.
    """
    rules = campaign_rules(campaign)
    qs = Target.objects.filter(campaign=campaign)
    if isinstance(targets, QuerySet):
        qs = qs.filter(pk__in=targets.values("pk"))
    elif targets is not None:
        qs = qs.filter(pk__in=[t.pk if isinstance(t, Target) else t for t in targets])
    codes = dict(OrgUnit.objects.filter(campaign=campaign).values_list("pk", "code"))
    # Locked while computing so an edit made meanwhile is not overwritten with a stale result.
    rows = qs.select_for_update().values_list(
        "pk", "street_id", "system_id", "address", "community", "name", "flags",
        "priority_reasons", "priority_rank")
    # Grouped by result: a campaign has few distinct combinations of reasons.
    changed = defaultdict(list)
    for pk, street, system, address, community, name, flags, old, old_rank in rows.iterator(chunk_size=CHUNK):
        reasons = priority_reasons(rules, system=codes.get(system), street=codes.get(street),
                                   texts=(address, community, name), flags=flags)
        if reasons != old or len(reasons) != old_rank:
            changed[tuple(reasons)].append(pk)
    for reasons, pks in changed.items():
        for start in range(0, len(pks), CHUNK):
            Target.objects.filter(pk__in=pks[start:start + CHUNK]).update(
                priority_reasons=list(reasons), priority_rank=len(reasons))
    return sum(len(pks) for pks in changed.values())
