"""The ledger as it stood at the end of a day, read back from the change log.

One reading serves every "as of" question: the as-of export, the ledger page's as-of filters
and the command room's progress figures. A target stood at the end of a day as its latest
change-log entry written before midnight says (`entries_on`); a target whose latest entry is a
deletion, or which had no entry yet, was not in the ledger that day.
"""

import datetime
from collections.abc import Iterator

from django.db.models import BigIntegerField, Max, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.models import ChangeLogEntry

from .columns import TARGET
from .priorities import campaign_rules, priority_reasons

OBJECT_TYPE = TARGET.object_type


def day_end(day: datetime.date) -> datetime.datetime:
    """The first moment after `day`, in the project's time zone: entries before it count for the day."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time()))


def as_of_day(text, campaign: Campaign | None = None) -> datetime.date:
    """The day an as-of question asks for, from a page or the command line; ValueError with a
    message for the user unless it is a YYYY-MM-DD day no later than today (a later day is
    not known yet, and 9999-12-31 would overflow the end-of-day bound) and, given the
    campaign, no earlier than the day it began."""
    try:
        day = datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(_("“%(day)s” is not a day (YYYY-MM-DD).") % {"day": str(text)[:40]}) from None
    if day > timezone.localdate():
        raise ValueError(_("%(day)s is after today: the ledger can be read as it stood on a past day or today.")
                         % {"day": day.isoformat()})
    if campaign is not None and day < campaign.starts_on:
        raise ValueError(_("%(day)s is before the campaign began (%(start)s): there was no ledger yet.")
                         % {"day": day.isoformat(), "start": campaign.starts_on.isoformat()})
    return day


def entries_on(day: datetime.date) -> QuerySet:
    """Each target's latest change-log entry written before the end of `day`, deletions left out:
    the ledger as it stood then, one entry per target, its `after` the target as it was."""
    latest = (ChangeLogEntry.objects.filter(object_type=OBJECT_TYPE, at__lt=day_end(day))
              .values("object_id").annotate(last=Max("id")).values("last"))
    return ChangeLogEntry.objects.filter(id__in=latest).exclude(action=ChangeLogEntry.Action.DELETE)


def target_ids(entries: QuerySet) -> QuerySet:
    """The target ids of change-log entries, as a subquery a target queryset filters on (`pk__in`)."""
    return entries.values(target_pk=Cast("object_id", BigIntegerField()))


def as_of_snapshots(queryset, day: datetime.date) -> dict[int, dict]:
    """{target id: the target as it stood at the end of `day`} for the targets in `queryset` (the scope)."""
    visible = {str(pk) for pk in queryset.values_list("pk", flat=True)}
    entries = entries_on(day).only("object_id", "after")
    return {int(e.object_id): e.after for e in entries.iterator(chunk_size=2000) if e.object_id in visible}


def as_of_rows(queryset, day: datetime.date, *, where: dict | None = None) -> Iterator[dict]:
    """Rows as the ledger stood at the end of `day`, for targets in `queryset` (the scope).

    `where` filters on the snapshot as it was then (e.g. {"street": "古城街道"}).
    """
    rows = list(as_of_snapshots(queryset, day).values())
    for key, value in (where or {}).items():
        rows = [r for r in rows if r.get(key) == value]
    rows.sort(key=lambda r: r["code"])
    yield from rows


def snapshot_priority(campaign: Campaign):
    """A function giving a snapshot row's 重点理由: the campaign's priority rules applied to the
    row as it is (or was, for a past day), by the same function that keeps the stored reasons
    current."""
    rules = campaign_rules(campaign)
    units = campaign.units.filter(kind__in=[OrgUnit.Kind.STREET, OrgUnit.Kind.SYSTEM])
    codes = {(kind, name): code for kind, name, code in units.values_list("kind", "name", "code")}

    def reasons(row: dict) -> list[str]:
        return priority_reasons(
            rules, system=codes.get((OrgUnit.Kind.SYSTEM, row.get("system"))),
            street=codes.get((OrgUnit.Kind.STREET, row.get("street"))),
            texts=(row.get("address"), row.get("community"), row.get("name")), flags=row.get("flags"))
    return reasons
