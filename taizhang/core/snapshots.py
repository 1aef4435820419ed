"""What a change-log entry records of a record: one declaration per model.

Like NetBox's `serialize_object`, each app declares once, for each model it writes, the
fields its history keeps, how each is written (labels by name, decimals as strings
quantized to the field's places, days in ISO form) and the target the record belongs to.
Every service that writes the model logs `change(...)` of it, the history pages label
fields from it, and the as-of replay reads stored records through `Serializer.stored`.

A declaration only says how new entries are written: stored entries keep what they
recorded (their seal covers it), so a page reading them copes with keys they lack.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from .changelog import Change, Mismatch
from .models import ChangeLogEntry


@dataclass(frozen=True)
class Field:
    """How one snapshot field is read and written, where the model field alone does not say.

    `convert` is applied to values other than None (None for as they are); `source` is the
    attribute read instead of the field's name; `whole`: `convert` is given the record itself
    (lists of child rows), so the field has no bulk form.
    """

    convert: Callable[[Any], Any] | None = None
    source: str | None = None
    whole: bool = False


def quantized(places: int) -> Callable[[Any], str]:
    """A decimal (or the float SQLite gives back when read without the ORM) as a string with
    `places` decimals: 12.5 -> "12.50"."""
    step = Decimal(1).scaleb(-places)

    def convert(value) -> str:
        # A float by its shortest form, 116.225437, not its binary expansion: faster, and
        # the same once quantized.
        return str((Decimal(repr(value)) if value.__class__ is float else Decimal(value)).quantize(step))

    return convert


def iso_day(value) -> str:
    return value.isoformat()


def label_name(related) -> str:
    return related.name


LABEL = Field(label_name)  # a related label (street, type, unit) by its name


class Serializer:
    """A model's declared snapshot; made by `declare`."""

    def __init__(self, object_type: str, model: type[models.Model], fields: Iterable[str], *,
                 target: str | None, special: dict[str, Field] | None = None,
                 headings: dict[str, Any] | None = None, describe: Callable[[Any], str] = str):
        self.object_type, self.model, self.describe = object_type, model, describe
        self.headings = headings or {}
        self.fields = tuple(fields)
        self.target_path = target
        self._target = attrgetter(target) if target else None
        self.specs = {name: (special or {}).get(name) or _from_model(model, name) for name in self.fields}
        self._readers = [(name, attrgetter(spec.source or name), spec.convert, spec.whole)
                         for name, spec in self.specs.items()]
        # field -> the conversion of its values other than None (None: kept as they are),
        # precomputed for bulk writes of plain values.
        self.converters = {name: spec.convert for name, spec in self.specs.items() if not spec.whole}

    def snapshot(self, obj) -> dict:
        """The record as its change-log entries keep it."""
        out = {}
        for name, read, convert, whole in self._readers:
            if whole:
                out[name] = convert(obj)
            else:
                value = read(obj)
                out[name] = value if value is None or convert is None else convert(value)
        return out

    def values(self, values: dict) -> dict:
        """Some fields given as {field: value} (labels as objects), in the form a snapshot keeps
        them: the bulk form, one dict lookup and one call per value."""
        converters = self.converters
        return {name: value if value is None or (convert := converters[name]) is None else convert(value)
                for name, value in values.items()}

    def target_of(self, obj) -> int | None:
        return self._target(obj) if self._target else None

    def change(self, obj, action: str, before: dict | None, after: dict | None) -> Change:
        return Change(self.object_type, str(obj.pk), self.describe(obj), action, before, after,
                      target_id=self.target_of(obj))

    def created(self, obj) -> Change:
        return self.change(obj, "create", None, self.snapshot(obj))

    def heading(self, name: str) -> str:
        """The heading of a field on a history page; a key the declaration no longer has
        (an older entry's) is shown as it is."""
        if name in self.headings:
            return str(self.headings[name])
        try:
            return capfirst(str(self.model._meta.get_field(name).verbose_name))
        except (FieldDoesNotExist, AttributeError):  # AttributeError: a reverse relation has no verbose name
            return name

    def stored(self, queryset, *, paths: dict[str, str] | None = None) -> Iterator[tuple[Any, dict]]:
        """(pk, snapshot) of every record in `queryset`, in one query: read as values, not
        objects. `paths` reads a field through a relation (a label's "street__name"), whose
        value is then kept as it is."""
        paths = paths or {}
        names = [name for name in self.fields if not self.specs[name].whole]
        converters = [None if name in paths else self.converters[name] for name in names]
        columns = [paths.get(name) or self.specs[name].source or name for name in names]
        for pk, *values in queryset.values_list("pk", *columns).iterator(chunk_size=2000):
            yield pk, {name: value if value is None or convert is None else convert(value)
                       for name, convert, value in zip(names, converters, values, strict=True)}


def _from_model(model, name: str) -> Field:
    """How a plain model field is written: decimals quantized, days in ISO form, a foreign
    key by its id, anything else as it is."""
    field = model._meta.get_field(name)
    if isinstance(field, models.DecimalField):
        return Field(quantized(field.decimal_places))
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return Field(iso_day)
    if isinstance(field, models.DateTimeField):
        return Field(_iso_time)
    if isinstance(field, models.ForeignKey):
        return Field(source=field.attname)
    return Field()


def _iso_time(value) -> str:
    return value.isoformat()


_DECLARED: dict[str, Serializer] = {}
_BY_MODEL: dict[type, Serializer] = {}


def declare(object_type: str, model: type[models.Model], fields: Iterable[str], *, target: str | None,
            special: dict[str, Field] | None = None, headings: dict[str, Any] | None = None,
            describe: Callable[[Any], str] = str) -> Serializer:
    """Declare what the change log records of `model`'s records, under `object_type`.

    `target` is the attribute naming the target a record belongs to ("target_id",
    "lease.target_id", "pk" for a target itself; None for records of no one target): its
    entries are then shown in that target's history. `special` says how the fields the
    model field alone does not describe are written; `headings` what a history page calls
    a field (the model field's verbose name by default).
    """
    serializer = Serializer(object_type, model, fields, target=target, special=special, headings=headings,
                            describe=describe)
    _DECLARED[object_type] = _BY_MODEL[model] = serializer
    return serializer


def serializer_for(object_type: str) -> Serializer | None:
    """The declaration of a type of record, or None for a type no longer declared."""
    return _DECLARED.get(object_type)


def declaration_of(model: type[models.Model]) -> Serializer:
    return _BY_MODEL[model]


def snapshot(obj) -> dict:
    """`obj` as its model's declaration says the change log keeps it."""
    return _BY_MODEL[type(obj)].snapshot(obj)


def change(obj, action: str, before: dict | None, after: dict | None) -> Change:
    """A Change of `obj`, named and tied to its target as its model's declaration says."""
    return _BY_MODEL[type(obj)].change(obj, action, before, after)


def created(obj) -> Change:
    return _BY_MODEL[type(obj)].created(obj)


TARGETS_CHUNK = 2000


def targets_check() -> Iterator[Mismatch]:
    """Every logged record whose entries name another target than the one it belongs to.

    An entry's target id is kept beside its seal, not under it (entries sealed before it
    existed must still verify), so it is checked against the records themselves: a
    record's entries all name the target its declaration finds on it now. Records since
    deleted cannot be asked and are left out.
    """
    for object_type, serializer in sorted(_DECLARED.items()):
        named: dict[str, set] = {}
        for object_id, target_id in (ChangeLogEntry.objects.filter(object_type=object_type)
                                     .values_list("object_id", "target_id").distinct()):
            named.setdefault(object_id, set()).add(target_id)
        path = serializer.target_path
        related = path.rsplit(".", 1)[0].replace(".", "__") if path and "." in path else None
        ids = sorted(named, key=lambda i: (len(i), i))
        for start in range(0, len(ids), TARGETS_CHUNK):
            chunk = ids[start:start + TARGETS_CHUNK]
            rows = serializer.model._base_manager.all()
            if related:
                rows = rows.select_related(related)
            for obj in rows.filter(pk__in=chunk):
                expected = serializer.target_of(obj)
                wrong = named[str(obj.pk)] - {expected}
                if wrong:
                    yield Mismatch(object_type, str(obj.pk), "target_id", sorted(wrong, key=str), expected)
