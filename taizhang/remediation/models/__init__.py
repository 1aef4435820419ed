"""Remediation records, one module per sub-domain."""

from .acceptance import Acceptance, Inspection
from .legal import Lease, LegalStep
from .petitions import Petition
from .plans import Plan, PlanStep, Policy
from .records import Outcome, Photo, PilotLesson
from .verification import Tenant, Verification
from .workflow import TransitionEvent

__all__ = ["Acceptance", "Inspection", "LegalStep", "Lease", "Outcome", "Petition", "Photo", "PilotLesson", "Plan",
           "PlanStep", "Policy", "Tenant", "TransitionEvent", "Verification"]
