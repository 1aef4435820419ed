"""What `verify_history` proves beyond the chain itself: seals need the key, the head and its
keyed boundary cannot be moved, a digest kept outside pins the past, and the stored ledger
is what the log says it became."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from taizhang.core.changelog import GENESIS, Digest, changelog_replay, digest_make, entry_hash, head_seal
from taizhang.core.keys import chain_key
from taizhang.core.models import ChainHead, ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update


def _reseal(key: bytes | None, *, keyed_from: int = 1) -> None:
    """What someone with write access to the database does after editing an entry: recompute
    every seal from the first, with `key` (None: plain SHA-256, all one has without the key)."""
    prev = GENESIS
    for entry in ChangeLogEntry.objects.order_by("id"):
        entry.prev_hash = prev
        entry.hash = entry_hash(entry, prev, key if entry.pk >= keyed_from else None)
        entry.save(update_fields=["prev_hash", "hash"])
        prev = entry.hash
    ChainHead.objects.filter(pk=1).update(last_hash=prev)


def _edit_an_entry() -> ChangeLogEntry:
    victim = ChangeLogEntry.objects.filter(object_type="ledger.target").order_by("id")[1]
    ChangeLogEntry.objects.filter(pk=victim.pk).update(after={**victim.after, "resident_population": 1})
    return victim


def _seal_head() -> None:
    head = ChainHead.objects.get()
    ChainHead.objects.filter(pk=1).update(seal=head_seal(chain_key(), keyed_from=head.keyed_from,
                                                         last_id=head.last_id, last_hash=head.last_hash))


def test_a_chain_recomputed_without_the_key_does_not_verify(targets):
    _edit_an_entry()
    _reseal(None)
    with pytest.raises(CommandError, match="chain head .* was altered"):
        call_command("verify_history")
    _seal_head()  # even were the head's seal not in the way, every entry's is
    first = ChangeLogEntry.objects.order_by("id")[0].pk
    with pytest.raises(CommandError, match="entry #%d was altered" % first):
        call_command("verify_history")


def test_moving_the_keyed_boundary_to_pass_off_a_recomputed_chain_breaks_the_head(targets):
    _edit_an_entry()
    last = ChangeLogEntry.objects.order_by("id").last().pk
    _reseal(None)
    ChainHead.objects.filter(pk=1).update(keyed_from=last + 1)
    with pytest.raises(CommandError, match="chain head .* was altered"):
        call_command("verify_history")


def test_entries_from_before_the_chain_was_keyed_still_verify(targets, personas):
    """A database from before the key: its entries keep plain SHA-256 up to the boundary."""
    legacy_last = ChangeLogEntry.objects.order_by("id").last().pk
    _reseal(None)  # as they were written before
    head = ChainHead.objects.get()
    ChainHead.objects.filter(pk=1).update(keyed_from=legacy_last + 1, seal=head_seal(
        chain_key(), keyed_from=legacy_last + 1, last_id=head.last_id, last_hash=head.last_hash))
    target_update(target=targets["GC-0001"], actor=personas["carol"], changes={"resident_population": 5})
    newest = ChangeLogEntry.objects.order_by("id").last()
    assert newest.hash == entry_hash(newest, newest.prev_hash, chain_key())
    out = io.StringIO()
    call_command("verify_history", stdout=out)
    assert "chain unbroken" in out.getvalue()


def test_the_key_comes_from_the_environment_or_a_file_and_is_required_in_production(settings, tmp_path):
    settings.TAIZHANG_CHAIN_KEY = ""
    settings.TAIZHANG_CHAIN_KEY_FILE = tmp_path / "chain.key"
    settings.TAIZHANG_CHAIN_KEY_CREATE = False
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="TAIZHANG_CHAIN_KEY"):
        chain_key()
    settings.TAIZHANG_CHAIN_KEY_CREATE = True
    made = chain_key()
    assert (tmp_path / "chain.key").stat().st_mode & 0o077 == 0  # only its owner reads it
    assert chain_key() == made
    settings.TAIZHANG_CHAIN_KEY = "k" * 40
    assert chain_key() == b"k" * 40


def test_a_digest_pins_the_past_even_against_someone_holding_the_key(targets, tmp_path):
    digest = digest_make()
    paper = tmp_path / "digest.txt"
    call_command("history_digest", stdout=paper.open("w"))
    out = io.StringIO()
    call_command("verify_history", "--against", str(paper), stdout=out)
    assert "holds the digest" in out.getvalue()
    _edit_an_entry()
    _reseal(chain_key())  # the key holder re-seals: the chain verifies again ...
    _seal_head()
    with pytest.raises(CommandError, match="differ from what the change log says"):
        call_command("verify_history")  # (the ledger no longer matches the edited entry)
    with pytest.raises(CommandError, match="entry #%d is not the one the digest recorded" % digest.last_id):
        call_command("verify_history", "--against", str(digest))  # ... but not the digest


def test_a_digest_not_made_with_the_key_is_refused(targets):
    digest = digest_make()
    forged = Digest(digest.made_at, digest.last_id, "f" * 64, digest.seal)
    with pytest.raises(CommandError, match="not made with this installation's key"):
        call_command("verify_history", "--against", str(forged))
    with pytest.raises(CommandError, match="--against: no digest found"):
        call_command("verify_history", "--against", "not a digest")


def test_a_digest_names_the_entry_removed_since(targets):
    digest = digest_make()
    ChangeLogEntry.objects.filter(pk=digest.last_id).delete()
    head = ChainHead.objects.get()
    previous = ChangeLogEntry.objects.order_by("id").last()
    ChainHead.objects.filter(pk=1).update(last_id=previous.pk, last_hash=previous.hash, seal=head_seal(
        chain_key(), keyed_from=head.keyed_from, last_id=previous.pk, last_hash=previous.hash))
    with pytest.raises(CommandError, match="entry #%d, which the digest recorded, is no longer" % digest.last_id):
        call_command("verify_history", "--against", str(digest))


def test_a_target_changed_around_the_services_is_named_with_its_field(targets, personas):
    target = targets["GC-0002"]
    target_update(target=target, actor=personas["carol"], changes={"resident_population": 189})
    assert list(changelog_replay()) == []
    with connection.cursor() as cursor:  # a hand-made UPDATE, as a DBA or an attacker would
        cursor.execute("UPDATE ledger_target SET resident_population = 70003 WHERE id = %s", [target.pk])
    mismatches = list(changelog_replay())
    assert [(m.object_id, m.field, m.logged, m.stored) for m in mismatches] == [
        (str(target.pk), "resident_population", 189, 70003)]
    with pytest.raises(CommandError, match="1 stored value"):
        call_command("verify_history")


def test_a_target_stored_without_any_entry_is_named(targets):
    ChangeLogEntry.objects.filter(object_type="ledger.target", object_id=str(targets["LG-0002"].pk)).delete()
    _reseal(chain_key())  # even with the chain made whole again
    _seal_head()
    assert [(m.object_id, m.stored) for m in changelog_replay()] == [
        (str(targets["LG-0002"].pk), "stored, never logged")]


def test_the_hold_fields_a_step_logs_are_replayed_too(targets, personas):
    import datetime

    from taizhang.remediation.workflow import target_step

    target = targets["GC-0001"]
    target_step(target=target, to=Target.State.ON_HOLD, actor=personas["carol"], hold_reason="诉讼中",
                hold_review_on=datetime.date(2016, 3, 1))
    assert list(changelog_replay()) == []
    Target.objects.filter(pk=target.pk).update(hold_reason="改过")
    assert [(m.field, m.logged, m.stored) for m in changelog_replay()] == [("hold_reason", "诉讼中", "改过")]


@settings(max_examples=200, deadline=None)
@given(key=st.one_of(st.none(), st.binary(min_size=1, max_size=40)), texts=st.lists(st.text(), min_size=6, max_size=6),
       actor=st.one_of(st.none(), st.integers(1, 10**9)), snapshots=st.lists(
           st.one_of(st.none(), st.dictionaries(st.text(), st.one_of(st.text(), st.integers(), st.booleans()))),
           min_size=2, max_size=2))
def test_a_write_seals_its_entries_as_the_one_canonical_form_does(key, texts, actor, snapshots):
    """The import's sealer, which puts a write's shared parts into the canonical form once, gives
    the seal `_digest` (the form verify_history checks) gives for every entry."""
    import datetime

    from taizhang.core.changelog import _digest, _encode, _record_parts, _sealer, _write_parts

    object_type, object_id, object_repr, action, reason, prev = texts
    shared = _write_parts(at=datetime.datetime(2016, 3, 1, tzinfo=datetime.UTC), actor_id=actor,
                          actor_name=texts[2], request_id=texts[0] or None, reason=reason)
    before, after = (_encode(s) for s in snapshots)
    expected = _digest(key, prev=prev, before=before, after=after, **shared, **_record_parts(
        object_type=object_type, object_id=object_id, object_repr=object_repr, action=action))
    assert _sealer(key, shared)(prev, object_type, object_id, object_repr, action, before, after) == expected
