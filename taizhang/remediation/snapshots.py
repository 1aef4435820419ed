"""What the change log records of each remediation record, and the target it belongs to
(core.snapshots): every service here logs `change(...)` of these, and a target's page
shows their entries in its history."""

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import OrgUnit
from taizhang.core.snapshots import (
    SQUARE_METRES,
    YUAN,
    Field,
    amount,
    choice,
    choice_list,
    day,
    declare,
    naming,
    related,
)

from .models import (
    Acceptance,
    Inspection,
    Lease,
    LegalStep,
    Outcome,
    Petition,
    Photo,
    PilotLesson,
    Plan,
    Policy,
    Tenant,
    Verification,
)
from .models.plans import Means


def _tenants(verification: Verification) -> list[dict]:
    return [{"name": t.name, "kind": t.kind, "people": t.people,
             "lease_ends_on": t.lease_ends_on.isoformat() if t.lease_ends_on else None}
            for t in verification.tenants.all()]


def _steps(plan: Plan) -> list[dict]:
    # Read with the plan where a service loaded them so (plans.plans_approve), else here.
    steps = getattr(plan, "_prefetched_objects_cache", {}).get("steps")
    if steps is None:
        steps = plan.steps.select_related("owner").prefetch_related("policies")
    return [{"description": s.description, "means": s.means, "owner": s.owner.code if s.owner else None,
             "due_on": s.due_on.isoformat() if s.due_on else None, "policies": sorted(p.pk for p in s.policies.all())}
            for s in sorted(steps, key=lambda s: (s.order, s.pk))]


def _with_details(name: str, details: list[str]) -> str:
    details = [d for d in details if d]
    if not details:
        return name
    return gettext("%(name)s (%(details)s)") % {"name": name, "details": gettext(", ").join(details)}


_tenant_kind = choice(Tenant.Kind.choices)
_means = choice(Means.choices)


def _show_tenants(tenants: list[dict], names) -> str:
    """One line per tenant: 张三（个人，4 人，租约至 2017年1月1日）."""
    lines = []
    for t in tenants:
        people = t.get("people")
        lines.append(_with_details(t["name"], [
            _tenant_kind(t["kind"]) if t.get("kind") else "",
            ngettext("%(n)s person", "%(n)s people", people) % {"n": people} if people else "",
            gettext("lease ends %(day)s") % {"day": day(t["lease_ends_on"])} if t.get("lease_ends_on") else ""]))
    return "\n".join(lines)


@naming
def _show_steps(steps: list[dict], names) -> str:
    """One line per step: its number, what, by which unit (by name), by when, under which policies."""
    lines = []
    for n, step in enumerate(steps, start=1):
        policies = "、".join("《%s》" % names.of(Policy, pk) for pk in step.get("policies") or ())
        lines.append(_with_details("%s. %s" % (n, step["description"]), [
            _means(step["means"]) if step.get("means") else "",
            names.of(OrgUnit, step["owner"], by="code") if step.get("owner") else "",
            gettext("due %(day)s") % {"day": day(step["due_on"])} if step.get("due_on") else "",
            policies]))
    return "\n".join(lines)


def _size(value, names) -> str:
    return str(filesizeformat(value))


def _of_target(record) -> str:
    """Named by its target, as the entries of these records always were."""
    return str(record.target)


VERIFICATION = declare(
    "remediation.verification", Verification,
    ("land_rights", "land_rights_holder", "hazards", "notes", "rented_floor_area", "longitude", "latitude",
     "coordinate_system", "resident_population", "business_count", "tenants", "street_confirmed_by",
     "holder_confirmed_by"),
    target="target_id", special={"tenants": Field(_tenants, whole=True, show=_show_tenants)},
    headings={"tenants": _("Tenants"), "street_confirmed_by": _("confirmed for the street by"),
              "holder_confirmed_by": _("confirmed for the rights holder by")},
    shows={"rented_floor_area": amount(SQUARE_METRES)}, describe=_of_target)
LEASE = declare(
    "remediation.lease", Lease,
    ("lessee", "kind", "ends_on", "notice_sent_on", "answer", "answered_on", "exposed_on", "notes"),
    target="target_id")
LEGAL_STEP = declare(
    "remediation.legalstep", LegalStep, ("lease", "stage", "due_on", "done_on", "court", "case_number", "result"),
    target="lease.target_id", headings={"lease": _("lease")}, shows={"lease": related(Lease, label="lessee")})
PETITION = declare(
    "remediation.petition", Petition,
    ("petitioner", "channel", "content", "received_on", "status", "reply", "replied_on", "stability_risk"),
    target="target_id")
PLAN = declare(
    "remediation.plan", Plan, ("version", "status", "planned_on", "means", "summary", "approved_by", "steps"),
    target="target_id",
    special={"means": Field(list, show=choice_list(Means.choices)),
             "steps": Field(_steps, whole=True, show=_show_steps)},
    headings={"steps": _("Steps"), "approved_by": _("approved by")})
POLICY = declare(
    "remediation.policy", Policy, ("title", "issuer", "number", "issued_on", "tags", "text"), target=None,
    campaign="campaign_id", describe=lambda policy: policy.title)
ACCEPTANCE = declare(
    "remediation.acceptance", Acceptance,
    ("tenants_cleared", "structures_demolished", "site_cleaned", "land_returned", "decision", "reasons",
     "demolished_area", "decided_by"),
    target="target_id", headings={"decided_by": _("decided by")}, shows={"demolished_area": amount(SQUARE_METRES)})
INSPECTION = declare(
    "remediation.inspection", Inspection, ("due_on", "done_on", "passed", "findings", "inspector"),
    target="target_id", headings={"inspector": _("inspector")})
OUTCOME = declare(
    "remediation.outcome", Outcome,
    ("stage", "tenants_cleared", "people_moved", "people_employed", "funds_paid", "demolished_area",
     "land_recovered"),
    target="target_id", shows={"funds_paid": amount(YUAN), "demolished_area": amount(SQUARE_METRES),
                               "land_recovered": amount(SQUARE_METRES)})
PILOT_LESSON = declare("remediation.pilotlesson", PilotLesson, ("title", "text"), target="target_id")
PHOTO = declare(
    "remediation.photo", Photo,
    ("sha256", "size", "content_type", "taken_longitude", "taken_latitude", "verification", "acceptance"),
    target="target_id", describe=_of_target,
    headings={"sha256": "SHA-256", "size": _("file size"), "content_type": _("file type"),
              "taken_longitude": _("longitude where taken"), "taken_latitude": _("latitude where taken"),
              "verification": _("verification"), "acceptance": _("acceptance")},
    shows={"size": _size})
