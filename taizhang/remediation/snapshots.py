"""What the change log records of each remediation record, and the target it belongs to
(core.snapshots): every service here logs `change(...)` of these, and a target's page
shows their entries in its history."""

from django.utils.translation import gettext_lazy as _

from taizhang.core.snapshots import Field, declare

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
    Verification,
)


def _tenants(verification: Verification) -> list[dict]:
    return [{"name": t.name, "kind": t.kind, "people": t.people,
             "lease_ends_on": t.lease_ends_on.isoformat() if t.lease_ends_on else None}
            for t in verification.tenants.all()]


def _steps(plan: Plan) -> list[dict]:
    return [{"description": s.description, "means": s.means, "owner": s.owner.code if s.owner else None,
             "due_on": s.due_on.isoformat() if s.due_on else None, "policies": sorted(p.pk for p in s.policies.all())}
            for s in plan.steps.select_related("owner").prefetch_related("policies")]


def _of_target(record) -> str:
    """Named by its target, as the entries of these records always were."""
    return str(record.target)


VERIFICATION = declare(
    "remediation.verification", Verification,
    ("land_rights", "land_rights_holder", "hazards", "notes", "rented_floor_area", "longitude", "latitude",
     "resident_population", "business_count", "tenants", "street_confirmed_by", "holder_confirmed_by"),
    target="target_id", special={"tenants": Field(_tenants, whole=True)},
    headings={"tenants": _("Tenants")}, describe=_of_target)
LEASE = declare(
    "remediation.lease", Lease,
    ("lessee", "kind", "ends_on", "notice_sent_on", "answer", "answered_on", "exposed_on", "notes"),
    target="target_id")
LEGAL_STEP = declare(
    "remediation.legalstep", LegalStep, ("lease", "stage", "due_on", "done_on", "court", "case_number", "result"),
    target="lease.target_id")
PETITION = declare(
    "remediation.petition", Petition,
    ("petitioner", "channel", "content", "received_on", "status", "reply", "replied_on", "stability_risk"),
    target="target_id")
PLAN = declare(
    "remediation.plan", Plan, ("version", "status", "planned_on", "means", "summary", "approved_by", "steps"),
    target="target_id", special={"means": Field(list), "steps": Field(_steps, whole=True)},
    headings={"steps": _("Steps")})
POLICY = declare(
    "remediation.policy", Policy, ("title", "issuer", "number", "issued_on", "tags", "text"), target=None,
    describe=lambda policy: policy.title)
ACCEPTANCE = declare(
    "remediation.acceptance", Acceptance,
    ("tenants_cleared", "structures_demolished", "site_cleaned", "land_returned", "decision", "reasons",
     "demolished_area", "decided_by"),
    target="target_id")
INSPECTION = declare(
    "remediation.inspection", Inspection, ("due_on", "done_on", "passed", "findings", "inspector"),
    target="target_id")
OUTCOME = declare(
    "remediation.outcome", Outcome,
    ("stage", "tenants_cleared", "people_moved", "people_employed", "funds_paid", "demolished_area",
     "land_recovered"),
    target="target_id")
PILOT_LESSON = declare("remediation.pilotlesson", PilotLesson, ("title", "text"), target="target_id")
PHOTO = declare(
    "remediation.photo", Photo,
    ("sha256", "size", "content_type", "taken_longitude", "taken_latitude", "verification", "acceptance"),
    target="target_id", describe=_of_target)
