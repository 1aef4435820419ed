"""The transitions mechanism with a table of its own: what any app gets by declaring a Machine."""

import pytest

from taizhang.core.changelog import Change
from taizhang.core.models import ChangeLogEntry
from taizhang.core.transitions import EventFields, Machine, Step, TransitionConflict, TransitionRefused, transition
from taizhang.ledger.models import Target
from taizhang.remediation.models import TransitionEvent

S = Target.State
missing = {"reason": "the survey form is not signed"}


def _signed(row):
    return missing["reason"]


# A toy table: only what the mechanism is given, none of remediation's declaration.
TOY = Machine(
    model=Target, event_model=TransitionEvent, event_fields=EventFields(subject="target"),
    steps=(Step(S.REGISTERED, S.VERIFIED, "survey", _signed), Step(S.VERIFIED, S.CLOSED, "close")),
    may=lambda actor, row, step: step.who == "survey" or actor is None,
    snapshot=lambda row: {"state": row.state}, change=lambda row, b, a: Change("toy", str(row.pk), "", "update", b, a),
)


def _unchanged(target):
    target.refresh_from_db()
    return target.state, target.version, TransitionEvent.objects.count(), ChangeLogEntry.objects.count()


def test_a_step_refused_by_its_condition_or_its_who_changes_nothing(targets, personas):
    target = targets["GC-0001"]
    before = _unchanged(target)
    with pytest.raises(TransitionRefused, match="not signed"):
        transition(TOY, row=target, to=S.VERIFIED, actor=personas["alice"])
    with pytest.raises(TransitionRefused):
        transition(TOY, row=target, to=S.CLOSED, actor=None)  # not in the table from here
    assert _unchanged(target) == before


def test_a_step_writes_the_row_its_event_and_its_log_entry(targets, personas, monkeypatch):
    target = targets["GC-0001"]
    monkeypatch.setitem(missing, "reason", None)
    event = transition(TOY, row=target, to=S.VERIFIED, actor=personas["alice"], comment="签字齐全")
    assert (target.state, target.version) == (S.VERIFIED, 2)  # the caller's object is brought up to date
    assert (event.from_state, event.to_state, event.actor, event.comment) == (
        S.REGISTERED, S.VERIFIED, personas["alice"], "签字齐全")
    entry = ChangeLogEntry.objects.get(object_type="toy")
    assert (entry.before, entry.after, entry.reason) == ({"state": "registered"}, {"state": "verified"}, "签字齐全")
    with pytest.raises(TransitionRefused):
        transition(TOY, row=target, to=S.CLOSED, actor=personas["alice"])  # `may` says only the system


def test_a_caller_that_saw_an_old_state_is_told_and_nothing_changes(targets, personas):
    stale = Target.objects.get(pk=targets["GC-0001"].pk)
    Target.objects.filter(pk=stale.pk).update(state=S.VERIFIED, version=2)
    before = _unchanged(targets["GC-0001"])
    with pytest.raises(TransitionConflict):
        transition(TOY, row=stale, to=S.VERIFIED, actor=personas["alice"])
    assert _unchanged(targets["GC-0001"]) == before
