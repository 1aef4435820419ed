"""Ledger pages: filter, search, sort, paginate, reconcile, and a target's history."""

import datetime

import pytest

from taizhang.core.changelog import Change, changelog_append
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from tests.conftest import make_target


def _codes(response):
    return [t.code for t in response.context["page"]]


def test_filter_by_system_and_search(client, targets, personas, units):
    client.force_login(personas["carol"])
    assert _codes(client.get("/ledger/", {"system": units["JT"].pk})) == ["GC-0001", "GC-0002"]
    assert _codes(client.get("/ledger/", {"q": "LG-0002"})) == ["LG-0002"]
    assert _codes(client.get("/ledger/street/GC/", {"q": "杨庄"})) == ["GC-0001", "GC-0002", "GC-0003"]


def test_sort_by_population_descending(client, targets, personas):
    target_update(target=targets["LG-0002"], actor=None, changes={"resident_population": 999})
    client.force_login(personas["carol"])
    assert _codes(client.get("/ledger/", {"sort": "-population"}))[0] == "LG-0002"


def test_unknown_filter_value_shows_nothing_instead_of_everything(client, targets, personas):
    client.force_login(personas["carol"])
    assert _codes(client.get("/ledger/", {"street": "999999"})) == []


def test_pagination_and_htmx_partial(client, targets, personas, units):
    for i in range(60):
        make_target(units, "GC-1%03d" % i, "GC", "JT")
    client.force_login(personas["alice"])
    second = client.get("/ledger/", {"page": 2})
    assert second.context["page"].number == 2 and len(second.context["page"]) == 13
    partial = client.get("/ledger/", {"page": 2}, headers={"HX-Request": "true"})
    assert b"<html" not in partial.content and b'id="results"' in partial.content


@pytest.mark.parametrize("count", [5, 40])
def test_ledger_page_query_count_does_not_grow_with_rows(client, targets, personas, units,
                                                         django_assert_num_queries, count):
    for i in range(count):
        make_target(units, "GC-2%03d" % i, "GC", "JT", "U-GC")
    client.force_login(personas["alice"])
    # session, user, memberships, campaign, count, three filter option lists, the page's ids, its rows,
    # the header's unread notifications
    with django_assert_num_queries(11):
        assert client.get("/ledger/").status_code == 200


def test_reconciliation_agrees_for_a_consistent_ledger(client, targets, personas):
    client.force_login(personas["carol"])
    response = client.get("/ledger/reconcile/")
    assert response.context["problems"] == []
    assert response.context["total"] == 5
    baseline = {row["label"]: (row["expected"], row["actual"]) for row in response.context["baseline"]}
    assert baseline["集体经济系统"] == (334, 2)


def test_reconciliation_flags_a_target_filed_under_a_non_street(client, targets, personas, units):
    # A row put in by hand, bypassing the services: its "street" is a working group.
    Target.objects.filter(pk=targets["LG-0002"].pk).update(street=units["G01"])
    client.force_login(personas["carol"])
    response = client.get("/ledger/reconcile/")
    assert response.context["problems"], "the mismatch must be flagged"
    assert b'id="mismatch"' in response.content


def test_target_page_shows_its_history(client, targets, personas):
    target_update(target=targets["GC-0001"], actor=personas["alice"], changes={"business_count": 3},
                  reason="现场核查")
    client.force_login(personas["alice"])
    response = client.get(targets["GC-0001"].get_absolute_url())
    assert "现场核查" in response.content.decode()
    entry, diffs, _kind = response.context["history"][0]
    assert entry.actor_name == "alice" and ("商户数", "8", "3") in diffs


def test_target_page_shows_a_petitions_entry_among_its_history(client, targets, personas):
    from taizhang.remediation.petitions import petition_handle, petition_record

    target = targets["GC-0001"]
    petition = petition_record(target=target, actor=personas["alice"], petitioner="赵六", channel="visit",
                               content="院内群租", received_on=datetime.date(2016, 3, 1))
    petition_handle(petition=petition, actor=personas["alice"], status="replied", reply="已约谈回复",
                    replied_on=datetime.date(2016, 3, 5))
    client.force_login(personas["alice"])
    history = client.get(target.get_absolute_url()).context["history"]
    entry, diffs, kind = history[0]
    assert (entry.object_type, kind, entry.object_repr) == ("remediation.petition", "信访件", str(petition))
    assert ("答复", "", "已约谈回复") in diffs
    assert [item.entry.object_type for item in history[1:3]] == ["remediation.petition", "ledger.target"]
    # Another target's page does not show it.
    other = client.get(targets["GC-0003"].get_absolute_url()).context["history"]
    assert "remediation.petition" not in {item.entry.object_type for item in other}


def test_target_page_displays_entries_written_before_the_declarations(client, targets, personas):
    target = targets["GC-0001"]
    # As stored before: a target entry without the hold and without the target column (read
    # by its object id), a petition's with a key its declaration no longer has and without
    # some it has now, and a type no longer declared at all.
    changelog_append(changes=[
        Change("ledger.target", str(target.pk), str(target), "update", {"code": "GC-0001", "business_count": 8},
               {"code": "GC-0001", "business_count": 9}),
        Change("remediation.petition", "999", "GC-0001 · 赵六", "create", None,
               {"target": "GC-0001", "petitioner": "赵六", "status": "received"}, target_id=target.pk),
        Change("remediation.retired", "1", "旧记录", "update", {"old": 1}, {"old": 2}, target_id=target.pk),
    ])
    client.force_login(personas["alice"])
    response = client.get(target.get_absolute_url())
    assert response.status_code == 200
    retired, petition, own = response.context["history"][:3]
    assert (retired.kind, retired.diffs) == ("remediation.retired", [("old", "1", "2")])
    assert ("信访人", "", "赵六") in petition.diffs and ("整治对象", "", "GC-0001") in petition.diffs
    assert (own.kind, own.diffs) == ("", [("商户数", "8", "9")])
    assert "旧记录" in response.content.decode()


def test_pages_are_chinese_by_default_and_english_on_request(client, targets, personas):
    client.force_login(personas["carol"])
    assert "台账" in client.get("/ledger/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/ledger/"})
    assert "Targets ledger" in client.get("/ledger/").content.decode()
