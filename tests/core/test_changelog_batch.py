"""The change log's bulk form: a transaction's entries appended together, sealed as one by one,
written only with the transaction; a step's event at the time of its entry."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from taizhang.core.changelog import Break, changelog_batch, changelog_verify
from taizhang.core.models import ChainHead, ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from taizhang.remediation.models import TransitionEvent
from taizhang.remediation.workflow import target_step

FIELDS = ("at", "actor_name", "request_id", "object_type", "object_id", "action", "before", "after", "reason",
          "prev_hash", "hash", "target_id")


def _updates(targets, personas):
    for n, code in enumerate(("GC-0001", "GC-0003", "GC-0001"), start=1):
        target_update(target=Target.objects.get(code=code), actor=personas["alice"],
                      changes={"resident_population": 100 + n}, reason="第%d次更正" % n)


def _written(since):
    return list(ChangeLogEntry.objects.filter(id__gt=since).order_by("id").values_list(*FIELDS))


def test_a_batch_writes_the_entries_and_seals_one_by_one_appends_would(targets, personas, monkeypatch):
    moment = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: moment)  # both runs write at the same time
    since = ChangeLogEntry.objects.order_by("-id").values_list("id", flat=True).first()
    with transaction.atomic():
        _updates(targets, personas)
        one_by_one = _written(since)
        transaction.set_rollback(True)
    with transaction.atomic(), changelog_batch():
        _updates(targets, personas)
        assert _written(since) == []  # kept until the batch ends
    assert _written(since) == one_by_one
    head = ChainHead.objects.get()
    assert (head.last_id, head.last_hash) == (ChangeLogEntry.objects.latest("id").pk, one_by_one[-1][-2])
    assert not any(isinstance(item, Break) for item in changelog_verify())


def test_a_failed_batch_writes_no_entry(targets, personas):
    count = ChangeLogEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic(), changelog_batch():
        _updates(targets, personas)
        raise RuntimeError("refused")
    assert ChangeLogEntry.objects.count() == count
    assert Target.objects.get(code="GC-0001").resident_population == 120
    assert not any(isinstance(item, Break) for item in changelog_verify())


@pytest.mark.django_db(transaction=True)
def test_a_batch_needs_a_transaction_around_it():
    with pytest.raises(RuntimeError, match="needs a transaction"), changelog_batch():
        pass


def test_a_step_s_event_is_at_the_time_of_its_entry(targets, personas, monkeypatch):
    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(state=Target.State.PLAN_APPROVED)
    target.refresh_from_db()
    moment = timezone.now() - datetime.timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    event = target_step(target=target, to=Target.State.IN_REMEDIATION, actor=personas["alice"])
    assert TransitionEvent.objects.get(pk=event.pk).at == moment == ChangeLogEntry.objects.latest("id").at
