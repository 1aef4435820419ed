"""What the change log records of a commendation (core.snapshots)."""

from taizhang.core.snapshots import declare, related
from taizhang.supervision.models import Order

from .models import Commendation

COMMENDATION = declare(
    "assessment.commendation", Commendation, ("person", "unit", "text", "order"), target=None,
    campaign="campaign_id", describe=lambda commendation: str(commendation.unit),
    shows={"order": related(Order, label="number")})
