"""Change-log entries as people read them: kind, field headings and values in the page's
language, as each model's declaration says (core.snapshots).

A value may name another record by id (a user, a unit, a lease); `Names` looks such names
up once per page, one query per model, whatever the number of entries: `readable` first
reads the values that name records (their ways of reading are marked `naming`) to collect
the ids, then reads every value with the names at hand.
"""

from collections import defaultdict
from functools import partial
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist

from .models import ChangeLogEntry
from .snapshots import Serializer, declarations, once, plain, serializer_for


class Names:
    """The names of records entries refer to, looked up in one query per model."""

    def __init__(self, *, campaign_id: int | None = None):
        # Records named by a code (a unit's) are looked up in this campaign, where codes are unique.
        self.campaign_id = campaign_id
        self._wanted: dict[tuple, set[str]] = defaultdict(set)
        self._found: dict[tuple, dict[str, str]] = {}
        self.loaded = False
        # What the page's values need only once: labels, words and formats in its language
        # (core.snapshots.once), and the fields' headings.
        self.memo: dict = {}

    def of(self, model, key, *, by: str = "pk", label: str | None = None) -> str:
        """The name of the `model` record whose `by` is `key`; before `load`, only noted."""
        group = (model, by, label)
        if not self.loaded:
            self._wanted[group].add(str(key))
            return ""
        name = self._found.get(group, {}).get(str(key))
        if name is None:  # deleted since, or an id in an older form
            return "%s #%s" % (_kind(model), key) if by == "pk" else str(key)
        return name

    def load(self) -> None:
        for (model, by, label), keys in self._wanted.items():
            self._found[(model, by, label)] = _names(model, by, label, keys, self.campaign_id)
        self.loaded = True


def _kind(model) -> str:
    serializer = _serializer_of(model)
    return serializer.kind if serializer else str(model._meta.verbose_name)


def _serializer_of(model) -> Serializer | None:
    return next((s for s in declarations() if s.model is model), None)


def _names(model, by: str, label: str | None, keys: set[str], campaign_id: int | None) -> dict[str, str]:
    if by == "pk":
        # Ids as a snapshot keeps them (integers); anything else names nothing.
        keys = {k for k in keys if k.isascii() and k.isdigit() and len(k) < 19}
    if not keys:
        return {}
    rows = model._default_manager.filter(**{by + "__in": keys})
    if by != "pk" and campaign_id is not None and _has_field(model, "campaign"):
        rows = rows.filter(campaign_id=campaign_id)
    if model is get_user_model():
        return {str(key): (" ".join(p for p in (first, last) if p) or username)
                for key, first, last, username in rows.values_list(by, "first_name", "last_name", "username")}
    label = label or next((f for f in ("name", "title") if _has_field(model, f)), None)
    if label is None:
        kind = _kind(model)
        return {str(key): "%s #%s" % (kind, key) for key in rows.values_list(by, flat=True)}
    return {str(key): str(name) for key, name in rows.values_list(by, label)}


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


class Readable(NamedTuple):
    """One entry as a page shows it."""

    entry: ChangeLogEntry
    diffs: list[tuple[str, str, str]]  # (heading, before, after) of each field that changed, as read
    kind: str  # what the record is ("Petition")


def readable(entries: list[ChangeLogEntry], *, campaign_id: int | None = None) -> list[Readable]:
    """`entries` as people read them, their fields in their declaration's order; the names
    they refer to looked up in one query per model."""
    names = Names(campaign_id=campaign_id)
    for entry in entries:
        _collect(entry, names)
    names.load()
    return [_read(entry, names) for entry in entries]


def _collect(entry: ChangeLogEntry, names: Names) -> None:
    """Note the records the entry's values name."""
    serializer = serializer_for(entry.object_type)
    if serializer is None:
        return
    shows = serializer.shows
    for values in (entry.before, entry.after):
        for name, value in (values or {}).items():
            if getattr(shows.get(name), "names_records", False):
                serializer.show(name, value, names)


def _read(entry: ChangeLogEntry, names: Names) -> Readable:
    serializer = serializer_for(entry.object_type)
    if serializer is None:  # a type no longer declared: its keys and values as they are
        diffs = [(name, _plain(before, names), _plain(after, names)) for name, before, after in entry.changed_fields()]
        return Readable(entry, diffs, entry.object_type)
    order = {name: i for i, name in enumerate(serializer.fields)}
    changed = sorted(entry.changed_fields(), key=lambda d: (order.get(d[0], len(order)), d[0]))
    diffs = []
    for name, before, after in changed:
        shown = (serializer.show(name, before, names), serializer.show(name, after, names))
        if shown != ("", ""):  # None written as "" since, say: nothing a reader would call a change
            diffs.append((once(names, (serializer, name), partial(serializer.heading, name)), *shown))
    return Readable(entry, diffs, serializer.kind)


def _plain(value, names=None) -> str:
    return "" if value is None else plain(value, names)
