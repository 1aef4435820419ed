"""The ledger search's trigram indexes (ledger/search.py): made by migration 0008 on PostgreSQL
where pg_trgm can be had, used by a search of three characters or more, and finding exactly
what the search found before them; on SQLite nothing changes."""

import io
import logging
import os
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from taizhang.ledger.models import Target
from taizhang.ledger.search import SEARCH_FIELDS, index_name, search_indexes_create, search_indexes_drop
from taizhang.ledger.selectors import LedgerFilterForm, ledger_targets
from tests.conftest import make_target

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")

ROWS = [
    ("GC-0101", "GC", "JT", {"name": "杨庄东大院", "address": "北京市石景山区杨庄路1号"}),
    ("GC-0102", "GC", "JT", {"name": "ABC废品回收站", "community": "abc社区"}),
    ("GC-0103", "GC", "SG", {"name": "折扣100%大院"}),
    ("GC-0104", "GC", "SG", {"name": "a_b仓库"}),
    ("GC-0105", "GC", "SG", {"name": "aXb仓库"}),  # what `a_b` would match were `_` a wildcard
    ("GC-0106", "GC", "JT", {"name": "x\\y料场"}),
    ("GC-0107", "GC", "JT", {"name": "xy料场", "address": "石景山区古城大街%2号"}),
    ("LG-0101", "LG", "GZ", {"name": "鲁谷沙石料场", "land_rights_unit": "鲁谷杨庄股份经济合作社"}),
    ("LG-0102", "LG", "ZF", {"name": "北辛安东院", "property_rights_unit": "北京鲁谷物流有限公司"}),
]
# CJK, ASCII in either case, one and two characters (no trigram to look up), LIKE's wildcards
# and its escape character, a search that spans no column and one that finds nothing.
QUERIES = ["大院", "院", "杨庄东", "石景山区杨庄路", "杨庄", "abc", "ABC", "aB", "gc-010", "GC-0101", "100%",
           "%", "%2", "_", "a_b", "\\", "x\\y", "\\y", "%大院", "鲁谷物流", "合作社", "庄东大院 ", "没有这个词"]


FILLER = 3000


@pytest.fixture
def searched(units, personas):
    for code, street, system, fields in ROWS:
        make_target(units, code, street, system, **{"community": "", "address": "", **fields})
    return units["GC"].campaign, personas["carol"]


@pytest.fixture
def ledger(searched):
    """The rows above among enough others, with the planner's statistics, that a selective search
    is best served by its indexes (on a handful of rows reading the table is cheaper)."""
    campaign, user = searched
    first = Target.objects.get(code="GC-0101")
    Target.objects.bulk_create(
        Target(campaign=campaign, code="FL-%05d" % i, name="填充%05d" % i, target_type_id=first.target_type_id,
               street_id=first.street_id, system_id=first.system_id) for i in range(FILLER))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the new rows' keys checked now, as at a commit
            # What a server's autovacuum does after many inserts: statistics, and the indexes' pending
            # entries merged (the planner counts a long pending list against an index).
            cursor.execute("ANALYZE ledger_target")
            for field in SEARCH_FIELDS:
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index_name(field)])
    return campaign, user


def _found(campaign, user, text):
    form = LedgerFilterForm({"q": text}, campaign=campaign)
    return form.apply(ledger_targets(user, campaign))


def _codes(campaign, user, text):
    return sorted(_found(campaign, user, text).values_list("code", flat=True))


def _scan(text):
    """What the search means, worked out in Python over every row (ASCII and CJK only: where
    Python's upper() and the databases' agree)."""
    text = text.strip().upper()
    return sorted(t.code for t in Target.objects.all()
                  if any(text in getattr(t, field).upper() for field in SEARCH_FIELDS))


def _indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ledger_target' "
                       "AND indexname LIKE 'target\\_q\\_%%'")
        return dict(cursor.fetchall())


@postgresql_only
def test_the_migration_made_one_trigram_index_per_searched_column():
    indexes = _indexes()
    assert sorted(indexes) == sorted(index_name(field) for field in SEARCH_FIELDS)
    for field in SEARCH_FIELDS:
        definition = indexes[index_name(field)]
        assert "USING gin (upper((%s)::text) gin_trgm_ops)" % field in definition, definition


def test_the_search_finds_each_row_with_the_text_in_a_searched_column(ledger):
    campaign, user = ledger
    for text in QUERIES:
        assert _codes(campaign, user, text) == _scan(text), text
    # The reference is not vacuous: wildcards are taken as written, case is ignored.
    assert _codes(campaign, user, "a_b") == ["GC-0104"]
    assert _codes(campaign, user, "%") == ["GC-0103", "GC-0107"]
    assert _codes(campaign, user, "\\") == ["GC-0106"]
    assert _codes(campaign, user, "abc") == ["GC-0102"]
    assert _codes(campaign, user, "杨庄") == ["GC-0101", "LG-0101"]


@postgresql_only
def test_the_results_are_the_same_with_and_without_the_indexes(ledger):
    found = {text: _codes(*ledger, text) for text in QUERIES}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the indexes wherever they can serve at all
    assert {text: _codes(*ledger, text) for text in QUERIES} == found
    search_indexes_drop(connection)
    assert _indexes() == {}
    assert {text: _codes(*ledger, text) for text in QUERIES} == found


@postgresql_only
def test_a_search_of_three_characters_or_more_reads_the_indexes(ledger):
    for text, field in [("杨庄东", "name"), ("abc", "community"), ("gc-010", "code"), ("100%", "name"),
                        ("鲁谷物流", "property_rights_unit")]:
        plan = _found(*ledger, text).values_list("pk", flat=True).explain()
        assert "Bitmap Index Scan on %s" % index_name(field) in plan, plan


@postgresql_only
def test_a_search_of_one_or_two_characters_reads_every_row(ledger):
    for text in ["院", "大院", "aB"]:
        plan = _found(*ledger, text).values_list("pk", flat=True).explain()
        assert "Seq Scan on ledger_target" in plan and "_trgm" not in plan, plan


@postgresql_only
def test_without_the_right_to_create_pg_trgm_the_migration_warns_and_goes_on(searched, caplog):
    """The migration's step, run as a role that may not create the extension (rolled back with the
    test's transaction), then the command a DBA runs once the extension is there."""
    role = "taizhang_no_create_%d" % os.getpid()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no index is made on a table with checks pending
        cursor.execute("DROP EXTENSION pg_trgm CASCADE")
        cursor.execute("CREATE ROLE %s" % role)
    with caplog.at_level(logging.WARNING, logger="taizhang.ledger.search"), _as_role(role):
        assert search_indexes_create(connection) is None
    assert "CREATE EXTENSION pg_trgm;" in caplog.text
    assert "manage.py create_search_indexes" in caplog.text
    assert "permission denied" in caplog.text
    assert _indexes() == {}
    assert _codes(*searched, "杨庄东") == ["GC-0101"]  # the transaction went on, the search still works

    with pytest.raises(CommandError, match="CREATE EXTENSION pg_trgm;"), _as_role(role):
        call_command("create_search_indexes")
    call_command("create_search_indexes", stdout=(out := io.StringIO()))
    assert "%d created, 0 already there" % len(SEARCH_FIELDS) in out.getvalue()
    assert sorted(_indexes()) == sorted(index_name(field) for field in SEARCH_FIELDS)
    with connection.cursor() as cursor:  # analyzed: the planner knows what the expressions hold
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [index_name("name")])
        assert cursor.fetchone()[0] == 1
    call_command("create_search_indexes", stdout=(out := io.StringIO()))
    assert "0 created, %d already there" % len(SEARCH_FIELDS) in out.getvalue()
    assert _codes(*searched, "杨庄东") == ["GC-0101"]


@contextmanager
def _as_role(role):
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE %s" % role)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases")
def test_on_sqlite_there_is_nothing_to_index(searched):
    assert search_indexes_create(connection) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'target_q_%'")
        assert cursor.fetchall() == []
    call_command("create_search_indexes", stdout=(out := io.StringIO()))
    assert "nothing to do" in out.getvalue()
