"""One compound, one policy (一院一策): versioned plans, their templates, and the policy library.

Writes (`plan_*`, `policy_*`) validate everything first, then write, then log, in one
transaction; reads start from what the user may see.

A plan's versions: v1 is made from the target type's template, each later version copies
the latest one as a draft. Only one version is open (draft or submitted) at a time, so
approving it supersedes whatever was approved before. An approved version is never edited.

Approving a plan does not move the target: the HQ office then takes the 已核查 → 已定策
step, whose condition (workflow.plan_approved) is met by the approved plan. One path for every
state change keeps the timeline and its concurrency rule in one place, and a new version
approved while the target is already in remediation leaves its state alone.
"""

import re

from django.core.exceptions import ValidationError
from django.db.models import Max, Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, may_in_campaign, visible_q
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_lock, targets_lock

from .checks import RemediationError
from .models import Plan, PlanStep, Policy
from .models.plans import Means
from .snapshots import PLAN, POLICY

Status = Plan.Status
OPEN_VERSIONS = (Status.DRAFT, Status.SUBMITTED)
POLICY_FIELDS = ("title", "issuer", "number", "issued_on", "tags", "text")
TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")


# Plans: reads

def target_plans(target: Target):
    """The target's versions, newest first, with steps, owners and linked policies."""
    steps = PlanStep.objects.select_related("owner").prefetch_related(
        Prefetch("policies", queryset=Policy.objects.only("id", "title")))
    return Plan.objects.filter(target=target).select_related("created_by", "approved_by").prefetch_related(
        Prefetch("steps", queryset=steps))


def plan_template(target: Target) -> dict | None:
    """The preset's template for the target's type: {"means": [...], "steps": [...]}, or None.

    Means the remediation app does not know are left out rather than offered.
    """
    templates = (target.campaign.rules or {}).get("plan_templates", [])
    code = target.target_type.code
    found = next((t for t in templates if t.get("target_type") == code), None)
    if found is None:
        return None
    return {"means": [m for m in found.get("means", []) if m in Means.values], "steps": list(found.get("steps", []))}


def means_labels(codes) -> list[str]:
    return [Means(code).label for code in codes if code in Means.values]


# Plans: writes

def _clean_plan(target: Target, planned_on, means, steps) -> tuple[list[str], list[dict]]:
    """Check a plan's header and steps together; raise one ValidationError naming every problem."""
    errors: dict[str, list[str]] = {}
    means = list(dict.fromkeys(means or ()))
    if not means:
        errors["means"] = [_("Choose at least one means (思想, 人情, 经济, 行政, 法治).")]
    for code in means:
        if code not in Means.values:
            errors.setdefault("means", []).append(_("Unknown means “%(means)s”.") % {"means": code})
    if planned_on is None:
        errors["planned_on"] = [_("The plan needs a date.")]
    # The policies and owner units every step names, read once for the whole plan.
    wanted = {p.pk if isinstance(p, Policy) else int(p) for step in steps for p in step.get("policies") or ()}
    policies = Policy.objects.in_bulk(wanted) if wanted else {}
    policies = {pk: p for pk, p in policies.items() if p.campaign_id == target.campaign_id}
    owners = {step["owner"].pk for step in steps if step.get("owner") is not None}
    known_owners = set(OrgUnit.objects.filter(pk__in=owners).values_list("pk", flat=True)) if owners else set()
    rows, step_errors = [], []
    for n, step in enumerate(steps, start=1):
        row, problems = _clean_step(target, n, step, planned_on, means, policies, known_owners)
        rows.append(row)
        step_errors += problems
    if step_errors:
        errors["steps"] = step_errors
    if errors:
        raise ValidationError(errors)
    return means, rows


def _clean_step(target, n, step, planned_on, means, policies: dict, known_owners: set) -> tuple[dict, list[str]]:
    problems = []
    description = (step.get("description") or "").strip()
    if not description:
        problems.append(_("Step %(n)d: describe what is to be done.") % {"n": n})
    step_means = step.get("means") or ""
    if step_means and step_means not in means:
        problems.append(_("Step %(n)d: its means “%(means)s” is not among the plan's means.")
                        % {"n": n, "means": Means(step_means).label if step_means in Means.values else step_means})
    owner = step.get("owner")
    if owner is not None and owner.campaign_id != target.campaign_id:
        problems.append(_("Step %(n)d: the owner unit is not a unit of this campaign.") % {"n": n})
    due_on = step.get("due_on")
    if due_on and planned_on and due_on < planned_on:
        problems.append(_("Step %(n)d is due on %(due)s, before the plan's date %(date)s.")
                        % {"n": n, "due": due_on.isoformat(), "date": planned_on.isoformat()})
    ids = {p.pk if isinstance(p, Policy) else int(p) for p in step.get("policies") or ()}
    if not ids <= policies.keys():
        problems.append(_("Step %(n)d: a linked policy is not in this campaign's library.") % {"n": n})
    row = {"order": n, "description": description, "means": step_means, "owner": owner, "due_on": due_on}
    if not problems:
        # The owner's existence is checked above for the whole plan, in one query.
        exclude = ["plan", "owner"] if owner is None or owner.pk in known_owners else ["plan"]
        PlanStep(plan=Plan(), **row).full_clean(exclude=exclude)
    return dict(row, policies=[policies[pk] for pk in sorted(ids) if pk in policies]), problems


def _write_steps(plans: list[tuple[Plan, list[dict]]]) -> None:
    """The plans' steps in one insert, and their links to policies in another."""
    steps = PlanStep.objects.bulk_create(PlanStep(plan=plan, **{k: v for k, v in row.items() if k != "policies"})
                                         for plan, rows in plans for row in rows)
    links = [PlanStep.policies.through(planstep_id=step.pk, policy_id=policy.pk)
             for step, row in zip(steps, (row for _plan, rows in plans for row in rows), strict=True)
             for policy in row["policies"]]
    if links:
        PlanStep.policies.through.objects.bulk_create(links)


def _refuse_open(open_plan: Plan) -> None:
    raise RemediationError(_("Version %(version)s is still open (%(status)s): edit it rather than starting "
                             "another.") % {"version": open_plan.version, "status": open_plan.get_status_display()})


def _lock(target: Target) -> int:
    """Serialise new versions of one target; returns the next version number."""
    target_lock(target.pk)
    latest = Plan.objects.filter(target=target).order_by("-version").values_list("version", flat=True).first()
    return (latest or 0) + 1


@atomic
def plan_create(*, target: Target, actor, planned_on, means: list[str], summary: str = "",
                steps: list[dict] = ()) -> Plan:
    """A new draft version of the target's plan.

    Each step: description, means (one of the plan's, or blank), owner (an OrgUnit of the
    campaign, or None), due_on (not before `planned_on`, or None), policies (Policy or pk).
    """
    return plans_create(actor=actor, items=[{"target": target, "planned_on": planned_on, "means": means,
                                             "summary": summary, "steps": steps}])[0]


@atomic
def plans_create(*, actor, items: list[dict]) -> list[Plan]:
    """New draft versions of several targets' plans at once (a street drafting a week's plans),
    all or none, each checked as `plan_create` checks one. Each item: target, planned_on,
    means, summary, steps."""
    targets = [item["target"] for item in items]
    for target in targets:
        if not may(actor, target, Action.PLAN_RECORD):
            raise RemediationError(_("Your role may not record a plan for this target."))
    if len({t.pk for t in targets}) != len(targets):
        raise RemediationError(_("A target comes once in a round."))
    # Serialise new versions of each target: its lock first, then the versions it has.
    targets_lock([t.pk for t in targets])
    latest = dict(Plan.objects.filter(target__in=targets).values("target").annotate(v=Max("version"))
                  .values_list("target", "v"))
    opened = {p.target_id: p for p in Plan.objects.filter(target__in=targets, status__in=OPEN_VERSIONS)}
    plans = []
    for item in items:
        target = item["target"]
        if target.pk in opened:
            _refuse_open(opened[target.pk])
        means, rows = _clean_plan(target, item["planned_on"], item["means"], item.get("steps") or ())
        plan = Plan(target=target, version=latest.get(target.pk, 0) + 1, planned_on=item["planned_on"], means=means,
                    summary=(item.get("summary") or "").strip(), created_by=actor)
        plan.full_clean()
        plans.append((plan, rows))
    Plan.objects.bulk_create([plan for plan, _rows in plans])
    _write_steps(plans)
    plans = [plan for plan, _rows in plans]
    prefetch_related_objects(plans, Prefetch(
        "steps", queryset=PlanStep.objects.select_related("owner").prefetch_related("policies")))
    _log_by_version([(plan, [PLAN.change(plan, "create", None, PLAN.snapshot(plan))]) for plan in plans], actor,
                    _("plan v%(version)s drafted"))
    return plans


@atomic
def plan_new_version(*, target: Target, actor) -> Plan:
    """Copy the latest version as the next draft (v2, v3, ...)."""
    if not may(actor, target, Action.PLAN_RECORD):
        raise RemediationError(_("Your role may not record a plan for this target."))
    _lock(target)
    latest = Plan.objects.filter(target=target).order_by("-version").first()
    if latest is None:
        raise RemediationError(_("There is no plan to copy yet: make the first version."))
    steps = [{"description": s.description, "means": s.means, "owner": s.owner, "due_on": s.due_on,
              "policies": list(s.policies.all())} for s in latest.steps.select_related("owner")]
    return plan_create(target=target, actor=actor, planned_on=latest.planned_on, means=latest.means,
                       summary=latest.summary, steps=steps)


def locked_reason(plan: Plan) -> str | None:
    """Why a version cannot be changed any more (approved or superseded), or None."""
    if plan.status in OPEN_VERSIONS:
        return None
    return _("Version %(version)s is %(status)s and cannot be changed: make a new version instead.") % {
        "version": plan.version, "status": plan.get_status_display()}


def _editable(plan: Plan, actor) -> Plan:
    """The plan, locked, if the actor may change it; approved versions never change."""
    plan = Plan.objects.select_for_update().select_related("target").get(pk=plan.pk)
    if not may(actor, plan.target, Action.PLAN_RECORD):
        raise RemediationError(_("Your role may not change this plan."))
    if locked_reason(plan):
        raise RemediationError(locked_reason(plan))
    return plan


@atomic
def plan_update(*, plan: Plan, actor, planned_on, means: list[str], summary: str = "",
                steps: list[dict] = ()) -> Plan:
    """Replace an open version's header and steps; a submitted one goes back to draft."""
    plan = _editable(plan, actor)
    means, rows = _clean_plan(plan.target, planned_on, means, steps)
    before = PLAN.snapshot(plan)
    plan.planned_on, plan.means, plan.summary, plan.status = planned_on, means, summary.strip(), Status.DRAFT
    plan.full_clean()
    plan.save(update_fields=["planned_on", "means", "summary", "status"])
    plan.steps.all().delete()
    _write_steps([(plan, rows)])
    changelog_append(changes=[PLAN.change(plan, "update", before, PLAN.snapshot(plan))], actor=actor,
                     reason=_("plan v%(version)s edited") % {"version": plan.version})
    return plan


def _open_for(plans: list[Plan], actor, action: Action, refused: str) -> list[Plan]:
    """The plans locked in one query (in the order of their ids), with their steps as the log
    keeps them, in the callers' order, if the actor may take `action` on each."""
    steps = Prefetch("steps", queryset=PlanStep.objects.select_related("owner").prefetch_related("policies"))
    locked = Plan.objects.select_for_update().select_related("target").prefetch_related(steps).order_by("pk")
    found = {plan.pk: plan for plan in locked.filter(pk__in=[plan.pk for plan in plans])}
    if len(found) != len(plans):
        raise RemediationError(_("A plan comes once in a round."))
    for plan in found.values():
        if not may(actor, plan.target, action):
            raise _refusal(plan, plans, refused)
    return [found[plan.pk] for plan in plans]


def _refusal(plan: Plan, plans: list[Plan], message: str) -> RemediationError:
    """The refusal as it reads for one plan, naming the plan among several."""
    return RemediationError(message if len(plans) == 1 else "%s: %s" % (plan, message))


def _needs_steps(plan: Plan, message: str) -> None:
    if not plan.steps.all():
        raise RemediationError(message % {"version": plan.version})


def _log_by_version(changes: list[tuple[Plan, list]], actor, reason: str) -> None:
    """One append per version number, each entry's reason naming it as one plan's would."""
    for version in dict.fromkeys(plan.version for plan, _entries in changes):
        changelog_append(changes=[entry for plan, entries in changes if plan.version == version for entry in entries],
                         actor=actor, reason=reason % {"version": version})


@atomic
def plan_submit(*, plan: Plan, actor) -> Plan:
    """Hand a draft to the HQ office for approval."""
    return plans_submit(plans=[plan], actor=actor)[0]


@atomic
def plans_submit(*, plans: list[Plan], actor) -> list[Plan]:
    """Hand several drafts to the HQ office at once, all or none, each checked as `plan_submit` checks one."""
    plans = _open_for(plans, actor, Action.PLAN_RECORD, _("Your role may not change this plan."))
    for plan in plans:
        if locked_reason(plan):
            raise _refusal(plan, plans, locked_reason(plan))
        if plan.status != Status.DRAFT:
            raise _refusal(plan, plans, _("Version %(version)s is already submitted.") % {"version": plan.version})
        _needs_steps(plan, _("Version %(version)s has no steps: add at least one before submitting it."))
    changes = []
    for plan in plans:
        before = PLAN.snapshot(plan)
        if Plan.objects.filter(pk=plan.pk, status=Status.DRAFT).update(status=Status.SUBMITTED) != 1:
            raise RemediationError(_("Someone else changed this plan meanwhile; reload the page."))
        plan.status = Status.SUBMITTED
        changes.append((plan, [PLAN.change(plan, "update", before, PLAN.snapshot(plan))]))
    _log_by_version(changes, actor, _("plan v%(version)s submitted"))
    return plans


@atomic
def plan_approve(*, plan: Plan, actor) -> Plan:
    """The HQ office approves an open version; the version approved before it is superseded."""
    return plans_approve(plans=[plan], actor=actor)[0]


@atomic
def plans_approve(*, plans: list[Plan], actor) -> list[Plan]:
    """The HQ office approves several open versions at once (its weekly meeting), all or none,
    each checked as `plan_approve` checks one; the versions approved before them are superseded."""
    plans = _open_for(plans, actor, Action.PLAN_APPROVE, _("Only the HQ office approves a plan."))
    for plan in plans:
        if plan.status not in OPEN_VERSIONS:
            raise _refusal(plan, plans, _("Version %(version)s is %(status)s and cannot be approved.")
                           % {"version": plan.version, "status": plan.get_status_display()})
        _needs_steps(plan, _("Version %(version)s has no steps: add at least one before approving it."))
    if len({plan.target_id for plan in plans}) != len(plans):
        raise RemediationError(_("A plan comes once in a round."))
    now, changes = timezone.now(), []
    for plan in plans:
        before = PLAN.snapshot(plan)
        approved = Plan.objects.filter(pk=plan.pk, status__in=OPEN_VERSIONS).update(
            status=Status.APPROVED, approved_by=actor, approved_at=now)
        if approved != 1:
            raise RemediationError(_("Someone else changed this plan meanwhile; reload the page."))
        plan.status, plan.approved_by, plan.approved_at = Status.APPROVED, actor, now
        changes.append((plan, [PLAN.change(plan, "update", before, PLAN.snapshot(plan))]))
    entries = dict(changes)
    approved_ids = [plan.pk for plan in plans]
    by_target = {plan.target_id: plan for plan in plans}
    for old in Plan.objects.filter(target__in=list(by_target), status=Status.APPROVED).exclude(pk__in=approved_ids):
        old_before = PLAN.snapshot(old)
        Plan.objects.filter(pk=old.pk).update(status=Status.SUPERSEDED)
        old.status = Status.SUPERSEDED
        entries[by_target[old.target_id]].append(PLAN.change(old, "update", old_before, PLAN.snapshot(old)))
    _log_by_version(changes, actor, _("plan v%(version)s approved"))
    return plans


# The policy library (法规汇集): reads

def normalize_tags(text: str) -> str:
    """“拆违, 租赁，合同” → “拆违,租赁,合同”: one separator, so a tag is matched whole."""
    return ",".join(dict.fromkeys(t for t in TAG_SEPARATORS.split(text or "") if t))


def campaign_policies(campaign: Campaign):
    return Policy.objects.filter(campaign=campaign)


def policies_search(campaign: Campaign, *, q: str = "", tag: str = ""):
    policies = campaign_policies(campaign)
    for word in (q or "").split():
        policies = policies.filter(Q(title__icontains=word) | Q(issuer__icontains=word)
                                   | Q(number__icontains=word) | Q(tags__icontains=word) | Q(text__icontains=word))
    if tag:
        policies = policies.filter(Q(tags=tag) | Q(tags__startswith=tag + ",") | Q(tags__endswith="," + tag)
                                   | Q(tags__contains="," + tag + ","))
    return policies


def policy_tags(campaign: Campaign) -> list[str]:
    tags = set()
    for text in campaign_policies(campaign).values_list("tags", flat=True):
        tags.update(t for t in text.split(",") if t)
    return sorted(tags)


def policy_citations(user, policy: Policy):
    """The plan steps that cite a policy, on targets the user may see."""
    return (PlanStep.objects.filter(visible_q(user, prefix="plan__target__"), policies=policy)
            .select_related("plan__target").order_by("plan__target__code", "-plan__version", "order"))


def owner_units(campaign: Campaign) -> list[OrgUnit]:
    """Units that may own a step, kind by kind: the office, the groups, the streets and the
    systems in the preset's order, then the rights units system by system, by name (a hundred
    and more of them, in the order they were added otherwise)."""
    kinds = list(OrgUnit.Kind.values)
    units = OrgUnit.objects.filter(campaign=campaign).exclude(kind=OrgUnit.Kind.COMMAND).select_related("parent")

    def order(unit):
        if unit.kind == OrgUnit.Kind.RIGHTS_UNIT:
            system = unit.parent
            return kinds.index(unit.kind), (system.sort, system.name) if system else (0, ""), 0, unit.name
        return kinds.index(unit.kind), (0, ""), unit.sort, unit.name
    return sorted(units, key=order)


# The policy library: writes

def _policy_fields(fields: dict) -> dict:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if "tags" in out:
        out["tags"] = normalize_tags(out["tags"])
    return out


@atomic
def policy_create(*, campaign: Campaign, actor, **fields) -> Policy:
    """Add a regulation or policy to the campaign's library."""
    if not may_in_campaign(actor, campaign, Action.POLICY_EDIT):
        raise RemediationError(_("Only the HQ office and the working groups keep the policy library."))
    policy = Policy(campaign=campaign, **_policy_fields(fields))
    policy.full_clean()
    policy.save()
    changelog_append(changes=[POLICY.change(policy, "create", None, POLICY.snapshot(policy))], actor=actor,
                     reason=_("policy added"))
    return policy


@atomic
def policy_update(*, policy: Policy, actor, changes: dict) -> Policy:
    """Correct a policy's title, issuer, number, date, tags or text."""
    if not may_in_campaign(actor, policy.campaign, Action.POLICY_EDIT):
        raise RemediationError(_("Only the HQ office and the working groups keep the policy library."))
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    before = POLICY.snapshot(policy)
    for field, value in _policy_fields(changes).items():
        setattr(policy, field, value)
    policy.full_clean()
    policy.save(update_fields=list(POLICY_FIELDS))
    after = POLICY.snapshot(policy)
    if after != before:
        changelog_append(changes=[POLICY.change(policy, "update", before, after)], actor=actor,
                         reason=_("policy edited"))
    return policy
