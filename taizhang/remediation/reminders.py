"""Re-inspections that fall due (复查), told to the target's street on their day: the worker's
`inspections` sweep (core.sweeps), once per inspection however often it runs."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import Membership
from taizhang.accounts.permissions import ALLOWED, Action
from taizhang.core.notifications import Notice, kind_register, notify_many

from .models import Inspection

KIND = "inspection.due"
CHUNK = 1000


def register() -> None:
    kind_register(KIND, gettext_lazy("Re-inspections due"), email_default=True)


def inspections_sweep(*, now=None) -> dict:
    """Tell each street's staff of its targets' re-inspections due by today and not yet done."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = list(Inspection.objects.filter(done_on__isnull=True, due_on__lte=today).order_by("pk")
               .values_list("pk", "due_on", "target__code", "target__name", "target__street_id"))
    # A street's staff records re-inspections (Action.INSPECTION_RECORD), so it is told; the office sees the list.
    staff = {}
    for m in Membership.objects.filter(unit_id__in={row[4] for row in due}, user__is_active=True,
                                       role__in=ALLOWED[Action.INSPECTION_RECORD].roles - {Membership.Role.OFFICE}
                                       ).select_related("user"):
        staff.setdefault(m.unit_id, []).append(m.user)
    link = reverse("remediation:inspections")
    told = 0
    for start in range(0, len(due), CHUNK):
        told += notify_many([
            Notice(recipients=tuple(staff.get(street_id, ())), kind=KIND, key="inspection:%d:due" % pk, url=link,
                   title=_("Re-inspection of %(code)s %(name)s is due on %(day)s.") % {
                       "code": code, "name": name, "day": due_on.isoformat()})
            for pk, due_on, code, name, street_id in due[start:start + CHUNK]], now=now)
    return {"due": len(due), "told": told}
