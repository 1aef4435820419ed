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
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, may_in_campaign, visible_q
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_lock

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
    rows, step_errors = [], []
    for n, step in enumerate(steps, start=1):
        row, problems = _clean_step(target, n, step, planned_on, means)
        rows.append(row)
        step_errors += problems
    if step_errors:
        errors["steps"] = step_errors
    if errors:
        raise ValidationError(errors)
    return means, rows


def _clean_step(target, n, step, planned_on, means) -> tuple[dict, list[str]]:
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
    policies = list(Policy.objects.filter(campaign_id=target.campaign_id, pk__in=ids)) if ids else []
    if len(policies) != len(ids):
        problems.append(_("Step %(n)d: a linked policy is not in this campaign's library.") % {"n": n})
    row = {"order": n, "description": description, "means": step_means, "owner": owner, "due_on": due_on}
    if not problems:
        PlanStep(plan=Plan(), **row).full_clean(exclude=["plan"])
    return dict(row, policies=policies), problems


def _write_steps(plan: Plan, rows: list[dict]) -> None:
    for row in rows:
        policies = row.pop("policies")
        step = PlanStep.objects.create(plan=plan, **row)
        if policies:
            step.policies.set(policies)


def _open_version(target: Target) -> Plan | None:
    return Plan.objects.filter(target=target, status__in=OPEN_VERSIONS).first()


def _refuse_if_open(target: Target) -> None:
    open_plan = _open_version(target)
    if open_plan is not None:
        raise RemediationError(_("Version %(version)s is still open (%(status)s): edit it rather than starting "
                                 "another.") % {"version": open_plan.version,
                                                "status": open_plan.get_status_display()})


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
    if not may(actor, target, Action.PLAN_RECORD):
        raise RemediationError(_("Your role may not record a plan for this target."))
    version = _lock(target)
    _refuse_if_open(target)
    means, rows = _clean_plan(target, planned_on, means, steps)
    plan = Plan(target=target, version=version, planned_on=planned_on, means=means, summary=summary.strip(),
                created_by=actor)
    plan.full_clean()
    plan.save()
    _write_steps(plan, rows)
    changelog_append(changes=[PLAN.change(plan, "create", None, PLAN.snapshot(plan))], actor=actor,
                     reason=_("plan v%(version)s drafted") % {"version": plan.version})
    return plan


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
    _write_steps(plan, rows)
    changelog_append(changes=[PLAN.change(plan, "update", before, PLAN.snapshot(plan))], actor=actor,
                     reason=_("plan v%(version)s edited") % {"version": plan.version})
    return plan


def _needs_steps(plan: Plan, message: str) -> None:
    if not plan.steps.exists():
        raise RemediationError(message % {"version": plan.version})


@atomic
def plan_submit(*, plan: Plan, actor) -> Plan:
    """Hand a draft to the HQ office for approval."""
    plan = _editable(plan, actor)
    if plan.status != Status.DRAFT:
        raise RemediationError(_("Version %(version)s is already submitted.") % {"version": plan.version})
    _needs_steps(plan, _("Version %(version)s has no steps: add at least one before submitting it."))
    before = PLAN.snapshot(plan)
    if Plan.objects.filter(pk=plan.pk, status=Status.DRAFT).update(status=Status.SUBMITTED) != 1:
        raise RemediationError(_("Someone else changed this plan meanwhile; reload the page."))
    plan.refresh_from_db()
    changelog_append(changes=[PLAN.change(plan, "update", before, PLAN.snapshot(plan))], actor=actor,
                     reason=_("plan v%(version)s submitted") % {"version": plan.version})
    return plan


@atomic
def plan_approve(*, plan: Plan, actor) -> Plan:
    """The HQ office approves an open version; the version approved before it is superseded."""
    plan = Plan.objects.select_for_update().select_related("target").get(pk=plan.pk)
    if not may(actor, plan.target, Action.PLAN_APPROVE):
        raise RemediationError(_("Only the HQ office approves a plan."))
    if plan.status not in OPEN_VERSIONS:
        raise RemediationError(_("Version %(version)s is %(status)s and cannot be approved.")
                               % {"version": plan.version, "status": plan.get_status_display()})
    _needs_steps(plan, _("Version %(version)s has no steps: add at least one before approving it."))
    before = PLAN.snapshot(plan)
    approved = Plan.objects.filter(pk=plan.pk, status__in=OPEN_VERSIONS).update(
        status=Status.APPROVED, approved_by=actor, approved_at=timezone.now())
    if approved != 1:
        raise RemediationError(_("Someone else changed this plan meanwhile; reload the page."))
    plan.refresh_from_db()
    changes = [PLAN.change(plan, "update", before, PLAN.snapshot(plan))]
    for old in Plan.objects.filter(target=plan.target, status=Status.APPROVED).exclude(pk=plan.pk):
        old_before = PLAN.snapshot(old)
        Plan.objects.filter(pk=old.pk).update(status=Status.SUPERSEDED)
        old.status = Status.SUPERSEDED
        changes.append(PLAN.change(old, "update", old_before, PLAN.snapshot(old)))
    changelog_append(changes=changes, actor=actor,
                     reason=_("plan v%(version)s approved") % {"version": plan.version})
    return plan


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
