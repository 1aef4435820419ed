"""What a change-log entry records of a record: one declaration per model.

Like NetBox's `serialize_object`, each app declares once, for each model it writes, the
fields its history keeps, how each is written (labels by name, decimals as strings
quantized to the field's places, days in ISO form) and the target the record belongs to.
Every service that writes the model logs `change(...)` of it, the history pages label
fields from it, and the as-of replay reads stored records through `Serializer.stored`.

The declaration also says how a stored value reads on a page (`Serializer.show`), in the
active language: a choice by its label, a flag by its words, 是/否 for yes and no, an
amount with its unit, a day as the language writes days, a user or a unit by name. A
declaration only says how new entries are written: stored entries keep what they recorded
(their seal covers it), so a page reading them copes with keys they lack and values in an
older form (shown as they are).
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import dateformat
from django.utils.dateparse import parse_datetime
from django.utils.formats import get_format
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .changelog import Change, Mismatch, check_register
from .models import ChangeLogEntry


@dataclass(frozen=True)
class Field:
    """How one snapshot field is read and written, where the model field alone does not say.

    `convert` is applied to values other than None (None for as they are); `source` is the
    attribute read instead of the field's name; `whole`: `convert` is given the record itself
    (lists of child rows), so the field has no bulk form. `show` says how a stored value
    (never None) reads on a page, given the page's `Names`; without it, a special field's
    value reads as it is, a plain one as its model field says.
    """

    convert: Callable[[Any], Any] | None = None
    source: str | None = None
    whole: bool = False
    show: Callable[[Any, Any], str] | None = None


def quantized(places: int) -> Callable[[Any], str]:
    """A decimal (or the float SQLite gives back when read without the ORM) as a string with
    `places` decimals: 12.5 -> "12.50"."""
    step = Decimal(1).scaleb(-places)
    # Zeros that pad a float's shortest form with `digits` decimals out to `places`.
    padding = ["0" * (places - digits) for digits in range(places + 1)]

    def convert(value) -> str:
        # A float by its shortest form, 116.225437, not its binary expansion: faster, and
        # the same once quantized.
        if value.__class__ is float:
            text = repr(value)
            # A form with no more decimals than `places` (a decimal stored by SQLite, read back
            # by the tens of thousands in an import) only needs zeros added: what quantize gives,
            # without making a Decimal. Exponents, inf and nan take the long way; so do fields of
            # more than 6 places, whose zero str() of a Decimal writes with an exponent (0E-7).
            decimals = len(text) - text.find(".") - 1
            if decimals <= places <= 6 and "." in text and "e" not in text:
                return text + padding[decimals]
            value = Decimal(text)
        elif value.__class__ is not Decimal:
            value = Decimal(value)
        return str(value.quantize(step))

    return convert


def iso_day(value) -> str:
    return value.isoformat()


def label_name(related) -> str:
    return related.name


LABEL = Field(label_name)  # a related label (street, type, unit) by its name


# How stored values read on a page. Each takes the stored value (never None) and the page's
# `Names` (core.readable), and returns text in the active language. What depends only on the
# language (labels, words, formats) is worked out once per page, in `names.memo`.

SQUARE_METRES = _("m²")
YUAN = _("yuan")


def once(names, key, make: Callable[[], Any]):
    """`make()`, computed once per page when the page's `names` is given (a page reads in one
    language), else every time."""
    if names is None:
        return make()
    memo = names.memo
    if key not in memo:
        memo[key] = make()
    return memo[key]


def plain(value, names=None) -> str:
    """A value as it is: lists joined with 、, yes and no in words."""
    if isinstance(value, bool):
        return yes_no(value, names)
    if isinstance(value, list):
        return "、".join(plain(v, names) for v in value if v is not None and v != "")
    if isinstance(value, dict):
        return "；".join("%s: %s" % (k, plain(v, names)) for k, v in value.items())
    return str(value)


def yes_no(value, names=None) -> str:
    return once(names, yes_no, lambda: (gettext("no"), gettext("yes")))[bool(value)]


def choice(choices) -> Callable[[Any, Any], str]:
    """A stored code by its label ("safety_hazard" -> 重大安全隐患); an unknown code as it is."""

    def show(value, names=None) -> str:
        labels = once(names, show, lambda: {code: str(label) for code, label in choices})
        return labels.get(value, str(value))

    return show


def choice_list(choices) -> Callable[[Any, Any], str]:
    """A list of stored codes by their labels, joined with 、."""
    one = choice(choices)

    def show(values, names=None) -> str:
        return "、".join(one(v, names) for v in values) if isinstance(values, list) else one(values, names)

    return show


def amount(unit=None) -> Callable[[Any, Any], str]:
    """A number as stored ("1200.50", exact to the field's places), with its unit if it has one."""

    def show(value, names=None) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            return plain(value, names)
        number = str(Decimal(value) if isinstance(value, str) else value)
        if unit is None:
            return number
        written, unit_text = once(names, show, lambda: (gettext("%(number)s %(unit)s"), str(unit)))
        return written % {"number": number, "unit": unit_text}

    return show


def day(value, names=None) -> str:
    """An ISO day as the page's language writes days (2016年3月1日, March 1, 2016)."""
    return dateformat.format(datetime.date.fromisoformat(value), once(names, day, lambda: get_format("DATE_FORMAT")))


def moment(value, names=None) -> str:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(value)
    written = once(names, moment, lambda: get_format("DATETIME_FORMAT"))
    return dateformat.format(localtime(parsed) if parsed.tzinfo else parsed, written)


def naming(show: Callable[[Any, Any], str]) -> Callable[[Any, Any], str]:
    """Marks a way of reading that names other records (asks `names.of`): a page reads such
    values twice, first to learn which names to look up (core.readable)."""
    show.names_records = True
    return show


def related(model, *, by: str = "pk", label: str | None = None) -> Callable[[Any, Any], str]:
    """A record referred to by its id (or `by`, a code) read by name: a user by full name or
    user name, a record with a name or title by it, `label` if given, else its kind and id."""

    @naming
    def show(value, names) -> str:
        return names.of(model, value, by=by, label=label)

    return show


class Serializer:
    """A model's declared snapshot; made by `declare`."""

    def __init__(self, object_type: str, model: type[models.Model], fields: Iterable[str], *,
                 target: str | None, special: dict[str, Field] | None = None,
                 headings: dict[str, Any] | None = None, describe: Callable[[Any], str] = str,
                 shows: dict[str, Callable] | None = None, kind=None, campaign: str | None = None):
        self.object_type, self.model, self.describe = object_type, model, describe
        self.headings = headings or {}
        self.fields = tuple(fields)
        self.target_path, self.campaign_path = target, campaign
        self._kind = kind
        self._target = attrgetter(target) if target else None
        special = special or {}
        self.specs = {name: special.get(name) or _from_model(model, name) for name in self.fields}
        # How each field's stored value reads: as declared, else a special field's as it is
        # (its model field no longer says what it holds), else as its model field says.
        shows = shows or {}
        self.shows = {name: shows.get(name) or spec.show or (plain if name in special else _show_of(model, name))
                      for name, spec in self.specs.items()}
        # A snapshot's keys are put in sorted order, the order its canonical JSON is written in
        # (core.changelog): the encoder's sort then finds them in order, a good part of its work.
        self._in_order = tuple(sorted(self.fields))
        self._readers = [(name, attrgetter(spec.source or name), spec.convert, spec.whole)
                         for name, spec in sorted(self.specs.items())]
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

    def row_values(self, row: dict) -> dict:
        """`values` of every field, from a record given as {field: value} (other keys are left
        out): the snapshot of a row written in bulk, its values picked in one step."""
        converters = self.converters
        return {name: value if value is None or (convert := converters[name]) is None else convert(value)
                for name, value in zip(self._in_order, map(row.__getitem__, self._in_order), strict=True)}

    def target_of(self, obj) -> int | None:
        return self._target(obj) if self._target else None

    def change(self, obj, action: str, before: dict | None, after: dict | None) -> Change:
        return Change(self.object_type, str(obj.pk), self.describe(obj), action, before, after,
                      target_id=self.target_of(obj))

    def created(self, obj) -> Change:
        return self.change(obj, "create", None, self.snapshot(obj))

    def heading(self, name: str) -> str:
        """The heading of a field on a history page: the declaration's, else the model field's
        verbose name; a key the model no longer has (an older entry's) is shown as it is."""
        if name in self.headings:
            return capfirst(str(self.headings[name]))
        try:
            # gettext: a field left with Django's default verbose name ("target") is still
            # read in the page's language when the catalog has the word.
            return capfirst(gettext(str(self.model._meta.get_field(name).verbose_name)))
        except (FieldDoesNotExist, AttributeError):  # AttributeError: a reverse relation has no verbose name
            return name

    @property
    def kind(self) -> str:
        """What a record of this type is called on a page ("Petition")."""
        return capfirst(str(self._kind or self.model._meta.verbose_name))

    def show(self, name: str, value, names) -> str:
        """A stored value of field `name` as a page shows it ("" for none). A value in a form
        the declaration no longer writes (an older entry's) is shown as it is."""
        if value is None or value == "" or value == []:
            return ""
        show = self.shows.get(name, plain)
        try:
            return show(value, names)
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError):
            return plain(value)

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


def _show_of(model, name: str) -> Callable[[Any, Any], str]:
    """How a plain model field's stored value reads: a choice by its label, a flag as yes or
    no, a day or a time in the page's language, a foreign key by name, anything else as it is."""
    field = model._meta.get_field(name)
    if getattr(field, "flatchoices", None):
        return choice(field.flatchoices)
    if isinstance(field, models.BooleanField):
        return yes_no
    if isinstance(field, models.DateTimeField):
        return moment
    if isinstance(field, models.DateField):
        return day
    if isinstance(field, models.ForeignKey):
        return related(field.related_model)
    if isinstance(field, (models.DecimalField, models.IntegerField, models.FloatField)):
        return amount()
    return plain


_DECLARED: dict[str, Serializer] = {}
_BY_MODEL: dict[type, Serializer] = {}


def declare(object_type: str, model: type[models.Model], fields: Iterable[str], *, target: str | None,
            special: dict[str, Field] | None = None, headings: dict[str, Any] | None = None,
            describe: Callable[[Any], str] = str, shows: dict[str, Callable] | None = None, kind=None,
            campaign: str | None = None) -> Serializer:
    """Declare what the change log records of `model`'s records, under `object_type`.

    `target` is the attribute naming the target a record belongs to ("target_id",
    "lease.target_id", "pk" for a target itself; None for records of no one target): its
    entries are then shown in that target's history. `special` says how the fields the
    model field alone does not describe are written; `headings` what a history page calls
    a field (the model field's verbose name by default); `shows` how a field's stored value
    reads there (`amount(SQUARE_METRES)`, `choice_list(...)`, `related(...)`; by default as
    the model field says); `kind` what a record is called (the model's verbose name by
    default). `campaign` is the lookup naming the campaign of a record of no one target
    ("campaign_id"), so that the campaign's change log lists its entries; records with
    neither (users) belong to every campaign's.
    """
    serializer = Serializer(object_type, model, fields, target=target, special=special, headings=headings,
                            describe=describe, shows=shows, kind=kind, campaign=campaign)
    _DECLARED[object_type] = _BY_MODEL[model] = serializer
    return serializer


def declarations() -> list[Serializer]:
    """Every declaration, in the order the apps made them."""
    return list(_DECLARED.values())


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


check_register(targets_check)
