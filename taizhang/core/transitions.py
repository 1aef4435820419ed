"""The one transitions mechanism: a table of steps an app declares, and one function that takes them.

An app declares a `Machine` for its model (the state field, the event model, how to lock a
row and what the change log records of it) and a table of `Step`s, each naming who may take
it (whatever the machine's `may` understands: an access action) and the condition it needs
as a plain function of the locked row that returns what is missing, or None. This module
knows nothing of what the states or conditions mean.

`transition` takes a step on the row read under its lock, as a conditional UPDATE on
(pk, state, version): of two people acting at once exactly one moves the row, and the other
is told. The row, its event and its change-log entry are written in one transaction.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from .changelog import Change, changelog_append
from .db import atomic
from .errors import ConflictError, ServiceError


class TransitionRefused(ServiceError):
    """A step that may not be taken; the message says which condition is missing."""


class TransitionConflict(TransitionRefused, ConflictError):
    """The row moved since the caller saw it."""


@dataclass(frozen=True)
class Step:
    """An allowed move from one state to another."""

    source: str
    target: str
    who: object  # asked of the machine's `may` (an access action)
    # The locked row -> what is missing (a message), or None when the step may be taken.
    condition: Callable[[models.Model], str | None] | None = None
    label: str = ""
    # Taken by the service that records its evidence (an acceptance, a re-inspection),
    # so a page offers that form instead of a bare button.
    by_service: bool = False


@dataclass(frozen=True)
class EventFields:
    """The names of the event model's fields."""

    subject: str  # the foreign key to the moved row
    source: str = "from_state"
    target: str = "to_state"
    actor: str = "actor"
    comment: str = "comment"
    # The event's time, if it has one: read from the same clock as its change-log entry
    # (timezone.now at the write), not from a default captured when the model was defined.
    at: str | None = None


@dataclass(frozen=True)
class Machine:
    """One model's state machine: its table of steps and how its rows are read, moved and logged."""

    model: type[models.Model]
    steps: tuple[Step, ...]
    event_model: type[models.Model]
    event_fields: EventFields
    # (actor, row, step) -> whether the actor may take the step on that row; None is the system.
    may: Callable[[object, models.Model, Step], bool]
    # The row as the change log records it, and the entry that records a change of it.
    snapshot: Callable[[models.Model], dict]
    change: Callable[[models.Model, dict, dict], Change]
    state_field: str = "state"
    version_field: str | None = "version"
    # pk -> the row read afresh under a write lock; the default locks the row alone.
    lock: Callable[[object], models.Model] | None = None
    # pks -> {pk: row} read afresh under write locks, in one query (`transition_many`); the
    # default locks them one by one with `lock`.
    lock_many: Callable[[list], dict] | None = None
    # The steps from the row's state; the default reads the table. A machine whose way back
    # depends on the row (a hold returns where it came from) gives its own.
    steps_from: Callable[["Machine", models.Model], list[Step]] | None = None
    # (row, step, inputs) -> the other fields the step writes; may refuse (TransitionRefused).
    fields: Callable[[models.Model, Step, Mapping], dict] = field(default=lambda row, step, inputs: {})

    def state_label(self, state: str) -> str:
        choices = dict(self.model._meta.get_field(self.state_field).flatchoices)
        return str(choices.get(state, state))

    def name(self) -> str:
        return str(self.model._meta.verbose_name)


def steps_from(machine: Machine, row) -> list[Step]:
    """The steps the table allows from the row's state (who may take them not yet asked)."""
    if machine.steps_from is not None:
        return machine.steps_from(machine, row)
    state = getattr(row, machine.state_field)
    return [s for s in machine.steps if s.source == state]


def offered(machine: Machine, row, actor) -> list[Step]:
    """The steps a page offers this actor as buttons: allowed, and not taken by a service."""
    return [s for s in steps_from(machine, row) if not s.by_service and machine.may(actor, row, s)]


def _lock(machine: Machine, pk):
    if machine.lock is not None:
        return machine.lock(pk)
    return machine.model._default_manager.select_for_update().get(pk=pk)


def _moved(machine: Machine, source: str) -> TransitionConflict:
    return TransitionConflict(_("Someone else moved this %(object)s meanwhile (it is no longer “%(state)s”); "
                                "reload the page.") % {"object": machine.name(), "state": machine.state_label(source)})


def _decide(machine: Machine, current, source: str, to: str, actor, inputs: Mapping | None) -> dict:
    """What moving the locked row from `source` to `to` writes; refuses as `transition` says."""
    if getattr(current, machine.state_field) != source:
        raise _moved(machine, source)
    step = next((s for s in steps_from(machine, current) if s.target == to), None) if to else None
    if step is None:
        raise TransitionRefused(_("A %(object)s cannot go from “%(from)s” to “%(to)s”.") % {
            "object": machine.name(), "from": machine.state_label(source), "to": machine.state_label(to)})
    if not machine.may(actor, current, step):
        raise TransitionRefused(_("Your role may not take this step on this %(object)s.") % {
            "object": machine.name()})
    missing = step.condition(current) if step.condition else None
    if missing:
        raise TransitionRefused(str(missing))
    return {machine.state_field: to} | machine.fields(current, step, inputs or {})


@atomic
def transition(machine: Machine, *, row, to: str, actor, comment: str = "", inputs: Mapping | None = None):
    """Move `row` one step from the state the caller saw it in to `to`; returns the event.

    Refuses (TransitionRefused) when the table has no such step, the actor may not take it or
    its condition is not met, and (TransitionConflict) when the row moved meanwhile. The step
    is decided, and the change logged, from the row read under its lock, so the log says what
    the row held, whatever else was written at the same moment. `inputs` are what the step's
    `fields` need (a hold's reason). The caller's object is brought up to date.
    """
    source = getattr(row, machine.state_field)
    current = _lock(machine, row.pk)
    written = _decide(machine, current, source, to, actor, inputs)
    event = _move(machine, current, source, written, actor, comment)
    row.refresh_from_db()
    return event


@atomic
def transition_many(machine: Machine, *, rows: list, to: str, actor, comments: list[str] | None = None,
                    inputs: Mapping | None = None) -> list:
    """`transition` for many rows at once (a sitting's worth), all or none; returns the events.

    Each row is decided as `transition` decides it, on the row read under its lock (all locked
    first, in one query where the machine can, in the order of their keys); each is moved by
    its own conditional update; the events are inserted together and the change-log entries
    appended together, each with its row's comment (`comments`, in the order of `rows`). A
    refusal names the row it is about and writes nothing. The callers' objects are brought up
    to date from the rows as written.
    """
    comments = comments or [""] * len(rows)
    pks = sorted({row.pk for row in rows})
    if len(pks) != len(rows):
        raise TransitionRefused(_("A %(object)s is moved once at a time.") % {"object": machine.name()})
    locked = machine.lock_many(pks) if machine.lock_many else {pk: _lock(machine, pk) for pk in pks}
    moves = []
    for row, comment in zip(rows, comments, strict=True):
        source, current = getattr(row, machine.state_field), locked[row.pk]
        try:
            written = _decide(machine, current, source, to, actor, inputs)
        except TransitionRefused as exc:
            if len(rows) == 1:
                raise
            raise type(exc)("%s: %s" % (current, exc)) from None
        moves.append((row, current, source, written, comment))
    now = timezone.now()
    names, events, changes = machine.event_fields, [], []
    for row, current, source, written, comment in moves:
        before = _update(machine, current, source, written)
        events.append(machine.event_model(**{
            names.subject: current, names.source: source, names.target: to, names.actor: actor,
            names.comment: comment}, **({names.at: now} if names.at else {})))
        reason = comment or "%s → %s" % (machine.state_label(source), machine.state_label(to))
        changes.append((reason, machine.change(current, before, machine.snapshot(current))))
        _copy(current, row)
    events = machine.event_model._default_manager.bulk_create(events)
    for reason in dict.fromkeys(reason for reason, _change in changes):
        changelog_append(changes=[change for r, change in changes if r == reason], actor=actor, reason=reason)
    return events


def _update(machine: Machine, current, source: str, written: dict) -> dict:
    """The conditional update of one locked row; returns its snapshot from before."""
    before = machine.snapshot(current)
    where = {"pk": current.pk, machine.state_field: source}
    if machine.version_field:
        version = getattr(current, machine.version_field)
        where[machine.version_field] = version
        written[machine.version_field] = version + 1
    # Conditional on what was read: a writer that bypassed the lock is caught, not logged over.
    if machine.model._default_manager.filter(**where).update(**written) != 1:
        raise _moved(machine, source)
    for name, value in written.items():
        setattr(current, name, value)
    return before


def _copy(current, row) -> None:
    """`row` made what `current` (the same row, as locked and written) holds, with its labels."""
    for column in current._meta.concrete_fields:
        setattr(row, column.attname, getattr(current, column.attname))
        if column.is_relation:
            if column.is_cached(current):
                column.set_cached_value(row, column.get_cached_value(current))
            elif column.is_cached(row):
                column.delete_cached_value(row)


def _move(machine: Machine, current, source: str, written: dict, actor, comment: str):
    before = _update(machine, current, source, written)
    names = machine.event_fields
    to = written[machine.state_field]
    timed = {names.at: timezone.now()} if names.at else {}
    event = machine.event_model._default_manager.create(**{
        names.subject: current, names.source: source, names.target: to, names.actor: actor,
        names.comment: comment}, **timed)
    changelog_append(changes=[machine.change(current, before, machine.snapshot(current))], actor=actor,
                     reason=comment or "%s → %s" % (machine.state_label(source), machine.state_label(to)))
    return event
