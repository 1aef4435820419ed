"""Two people acting at once: exactly one change wins, the other is told, nothing is lost.

Real processes against one database (SQLite file in WAL mode, or PostgreSQL).
"""

import pytest
from django.contrib.auth import get_user_model

from taizhang.campaigns.models import Campaign
from taizhang.core.changelog import Break, changelog_verify
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.models import Target
from taizhang.ledger.services import LedgerError, target_update
from tests.conftest import gc_row, make_xlsx
from tests.racing import race


def _update_population(pk, value):
    target = Target.objects.get(pk=pk)
    try:
        target_update(target=target, actor=None, changes={"resident_population": value}, expected_version=1)
    except LedgerError:
        return "refused"
    return "won %d" % value


def _import(username, data, seen_versions):
    user = get_user_model().objects.get(username=username)
    try:
        target_import(campaign=Campaign.objects.get(), user=user, data=data, filename="x.xlsx",
                      seen_versions=seen_versions)
    except ImportRejected as exc:
        return "conflict" if exc.report.conflicts else "problem"
    return "applied"


@pytest.mark.django_db(transaction=True)
def test_two_editors_at_once_one_wins_one_is_refused(targets, personas):
    target = targets["GC-0001"]
    answers = race("tests.ledger.test_concurrency:_update_population", [(target.pk, 11), (target.pk, 22)])
    assert answers[0] == "refused" and answers[1].startswith("won")
    target.refresh_from_db()
    assert target.version == 2
    assert target.resident_population == int(answers[1].split()[1])
    assert not any(isinstance(item, Break) for item in changelog_verify())


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_row_at_once_one_applies_one_conflicts(targets, personas, campaign):
    alice, carol = personas["alice"], personas["carol"]
    first = make_xlsx([gc_row("GC-0001", 名称="甲大院")])
    second = make_xlsx([gc_row("GC-0001", 名称="乙大院")])
    seen = {"first": import_prepare(campaign=campaign, user=alice, data=first, filename="a").seen_versions,
            "second": import_prepare(campaign=campaign, user=carol, data=second, filename="b").seen_versions}
    answers = race("tests.ledger.test_concurrency:_import",
                   [("alice", first, seen["first"]), ("carol", second, seen["second"])])
    assert answers == ["applied", "conflict"]
    target = Target.objects.get(code="GC-0001")
    assert target.name in ("甲大院", "乙大院") and target.version == 2
    assert not any(isinstance(item, Break) for item in changelog_verify())
