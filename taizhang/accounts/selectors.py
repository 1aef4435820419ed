"""Reads of the account pages: an account's history."""

from typing import NamedTuple

from django.db.models import Q
from django.utils.text import capfirst

from taizhang.core.models import ChangeLogEntry
from taizhang.core.snapshots import serializer_for

from .snapshots import MEMBERSHIP, USER


class HistoryItem(NamedTuple):
    entry: ChangeLogEntry
    diffs: list  # (heading, before, after)
    kind: str  # "" for the account's own entries, else what the record is (a membership)


def account_history(user, *, limit: int = 200) -> list[HistoryItem]:
    """The account's entries and those of its memberships, removed ones included, newest first,
    each field headed as its model's declaration says."""
    own = Q(object_type=USER.object_type, object_id=str(user.pk))
    roles = Q(object_type=MEMBERSHIP.object_type) & (Q(after__user=user.pk) | Q(before__user=user.pk))
    items = []
    for entry in ChangeLogEntry.objects.filter(own | roles).order_by("-id")[:limit]:
        serializer = serializer_for(entry.object_type)
        order = {name: i for i, name in enumerate(serializer.fields)}
        # A membership's account is the one whose page this is.
        changed = sorted((d for d in entry.changed_fields() if serializer is USER or d[0] != "user"),
                         key=lambda d: (order.get(d[0], len(order)), d[0]))
        diffs = [(serializer.heading(f), before, after) for f, before, after in changed]
        kind = "" if serializer is USER else str(capfirst(serializer.model._meta.verbose_name))
        items.append(HistoryItem(entry, diffs, kind))
    return items
