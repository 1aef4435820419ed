"""The change log: every write recorded, the chain provable, tampering named."""

import hashlib
import hmac
import importlib
import json
from datetime import UTC
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from taizhang.core.changelog import GENESIS, entry_hash
from taizhang.core.context import request_context
from taizhang.core.keys import chain_key
from taizhang.core.models import ChainHead, ChangeLogEntry
from taizhang.ledger.services import LedgerError, target_update


def test_every_create_is_logged_with_a_full_snapshot(targets):
    entry = ChangeLogEntry.objects.get(object_type="ledger.target", object_id=str(targets["GC-0001"].pk))
    assert entry.action == "create"
    assert entry.before is None
    assert entry.after["street"] == "古城街道"
    assert entry.after["land_area"] == "1200.00"


def test_update_logs_who_before_after_and_why(targets, personas):
    target = targets["GC-0001"]
    target_update(target=target, actor=personas["alice"], changes={"resident_population": 90},
                  reason="核查后更正")
    entry = ChangeLogEntry.objects.filter(object_id=str(target.pk)).last()
    assert entry.action == "update"
    assert entry.actor == personas["alice"]
    assert entry.reason == "核查后更正"
    assert entry.changed_fields() == [("resident_population", 120, 90), ("version", 1, 2)]


def test_update_with_stale_version_is_refused_and_changes_nothing(targets, personas):
    target = targets["GC-0001"]
    count = ChangeLogEntry.objects.count()
    with pytest.raises(LedgerError):
        target_update(target=target, actor=personas["alice"], changes={"resident_population": 1},
                      expected_version=7)
    target.refresh_from_db()
    assert target.resident_population == 120
    assert target.version == 1
    assert ChangeLogEntry.objects.count() == count


def test_verify_history_passes_on_an_untouched_chain(targets, capsys):
    call_command("verify_history")
    assert "chain unbroken" in capsys.readouterr().out


def test_verify_history_names_an_entry_altered_by_hand(targets):
    victim = ChangeLogEntry.objects.filter(object_type="ledger.target").order_by("id")[2]
    ChangeLogEntry.objects.filter(pk=victim.pk).update(after={**victim.after, "resident_population": 1})
    with pytest.raises(CommandError, match="entry #%d was altered" % victim.pk):
        call_command("verify_history")


def test_verify_history_names_an_entry_moved_to_another_targets_history(targets, personas, capsys):
    """The target an entry belongs to sits beside the seal, not under it: it is checked
    against the record itself, for a target's own entries and for a record of a target."""
    from taizhang.remediation.petitions import petition_record

    one, other = targets["GC-0001"], targets["LG-0001"]
    petition = petition_record(target=one, actor=personas["carol"], petitioner="张三", channel="letter", content="诉求",
                               received_on=one.registered_on)
    call_command("verify_history")
    capsys.readouterr()
    ChangeLogEntry.objects.filter(object_type="ledger.target", object_id=str(one.pk)).update(target_id=other.pk)
    entry = ChangeLogEntry.objects.filter(target_id=one.pk).exclude(object_type="ledger.target").get()
    ChangeLogEntry.objects.filter(pk=entry.pk).update(target_id=other.pk)
    with pytest.raises(CommandError, match="differ from what the change log says"):
        call_command("verify_history")
    err = capsys.readouterr().err
    assert "ledger.target #%d: target_id" % one.pk in err
    assert "%s #%d: target_id" % (entry.object_type, petition.pk) in err


def test_verify_history_names_the_entry_after_a_deleted_one(targets):
    entries = list(ChangeLogEntry.objects.order_by("id"))
    ChangeLogEntry.objects.filter(pk=entries[1].pk).delete()
    with pytest.raises(CommandError, match="broken at entry #%d" % entries[2].pk):
        call_command("verify_history")


def test_verify_history_notices_the_last_entries_removed(targets):
    last = ChangeLogEntry.objects.order_by("id").last()
    ChangeLogEntry.objects.filter(pk=last.pk).delete()
    with pytest.raises(CommandError, match="after #%d were removed" % ChainHead.objects.get().last_id):
        call_command("verify_history")


def _canonical(entry: ChangeLogEntry, prev_hash: str) -> bytes:
    """The canonical form the chain has used from the start, written out the plain way."""
    payload = {
        "prev": prev_hash, "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id, "actor_name": entry.actor_name,
        "request": str(entry.request_id) if entry.request_id else None,
        "type": entry.object_type, "id": str(entry.object_id), "repr": entry.object_repr,
        "action": entry.action, "before": entry.before, "after": entry.after, "reason": entry.reason,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def test_entries_are_sealed_over_the_canonical_form_chains_were_written_in(targets, personas):
    """Writing is built for speed from pre-encoded parts; the canonical form must not change,
    or every chain written before would stop verifying. Entries are sealed with the key."""
    target = targets["GC-0001"]
    with request_context():
        target_update(target=target, actor=personas["alice"], reason='引号" 反斜杠\\ 换行\n 和 emoji 🚧',
                      changes={"name": '="HYPERLINK()"\t大院', "flags": ["safety_hazard"], "land_area": Decimal("7.5")})
    entries = list(ChangeLogEntry.objects.order_by("id"))
    assert any(e.request_id for e in entries) and any(e.actor_id for e in entries)
    prev = GENESIS
    for entry in entries:
        assert entry.prev_hash == prev
        sealed = hmac.new(chain_key(), _canonical(entry, prev), hashlib.sha256).hexdigest()
        assert entry.hash == sealed == entry_hash(entry, prev, chain_key())
        prev = entry.hash


def test_the_chain_head_is_made_by_a_migration_not_by_the_first_writer(db):
    from django.apps import apps

    create_head = importlib.import_module("taizhang.core.migrations.0002_chain_head_row").create_head
    ChainHead.objects.all().delete()
    create_head(apps, None)
    create_head(apps, None)  # and made once
    assert list(ChainHead.objects.values_list("pk", "last_id", "last_hash")) == [(1, 0, GENESIS)]
