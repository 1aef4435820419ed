"""The ledger's filters behind the command room's figures: done, as it stood on a day, rebounds,
the rest beside pilots and priorities. With a day, a filter reads each target as it stood then."""

import datetime
import io

import pytest
from python_calamine import CalamineWorkbook

from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from tests.history import REBOUND, TODAY, noon

S = Target.State


def _codes(client, user, **params):
    client.force_login(user)
    response = client.get("/ledger/", params)
    assert response.status_code == 200, response.content.decode()[:1500]
    return [t.code for t in response.context["page"]]


def test_done_is_closed_now_and_not_done_is_the_rest(client, history, personas):
    lee = personas["lee"]
    done = _codes(client, lee, done="on")
    assert len(done) == 10 and all(Target.objects.get(code=c).state == S.CLOSED for c in done)
    assert sorted(done + _codes(client, lee, done="off")) == sorted(history)


def test_as_of_a_day_picks_the_targets_as_they_stood_then(client, history, personas):
    code, day = REBOUND
    lee = personas["lee"]
    before = _codes(client, lee, done="on", as_of=(day - datetime.timedelta(days=1)).isoformat())
    after = _codes(client, lee, done="on", as_of=day.isoformat())
    assert code in before and code not in after and len(before) == len(after) + 1
    assert _codes(client, lee, state=S.REBOUND, as_of=day.isoformat()) == [code]
    assert _codes(client, lee, done="on", as_of="2015-12-31") == ["GC-0001"]
    assert len(_codes(client, lee, as_of="2015-11-19")) == 0  # not in the ledger yet


def test_as_of_a_day_a_street_is_the_one_the_target_stood_in_then(client, history, personas, units, clock):
    moved = history["LG-0001"]
    with clock.at(datetime.date(2016, 8, 1)):
        target_update(target=moved, actor=personas["carol"], changes={"street": units["GC"]}, reason="划归古城")
    lee = personas["lee"]
    assert "LG-0001" in _codes(client, lee, street=units["LG"].pk, as_of="2016-07-31")
    assert "LG-0001" not in _codes(client, lee, street=units["LG"].pk, as_of="2016-08-01")
    assert "LG-0001" in _codes(client, lee, street=units["GC"].pk, as_of="2016-08-01")
    assert "LG-0001" in _codes(client, lee, street=units["GC"].pk)  # without a day: as it is now


def test_rebounded_and_done_at_least_once_count_up_to_the_day(client, history, personas):
    code, day = REBOUND
    lee = personas["lee"]
    assert _codes(client, lee, rebounded="on") == [code]
    assert _codes(client, lee, rebounded="on", as_of=(day - datetime.timedelta(days=1)).isoformat()) == []
    assert len(_codes(client, lee, ever_done="on")) == 11
    assert len(_codes(client, lee, ever_done="on", as_of="2016-06-30")) == 7


def test_the_rest_beside_pilots_and_priorities(client, history, personas, clock):
    lee = personas["lee"]
    assert _codes(client, lee, pilot="on") == ["GC-0001", "GC-0002"]
    assert len(_codes(client, lee, pilot="off")) == 18
    assert len(_codes(client, lee, pilot="off", as_of=TODAY.isoformat())) == 18
    # Every target of the fixture is a priority (集体经济, 古城 or 鲁谷's rules); one leaves the rules later.
    assert _codes(client, lee, priority="off") == []


def test_a_priority_as_of_a_day_reads_the_rules_on_the_target_as_it_was(client, clock, targets, personas, units):
    lee = personas["lee"]
    target = targets["LG-0002"]  # 鲁谷, 政府部门和社会单位: a priority for its street alone
    assert "LG-0002" not in _codes(client, lee, priority="off")
    with clock.at(datetime.date(2016, 12, 1)):
        target_update(target=target, actor=personas["carol"], changes={"street": units["BBS"]}, reason="划归八宝山")
    clock.moment = noon(datetime.date(2016, 12, 2))
    assert "LG-0002" in _codes(client, lee, priority="off")
    assert "LG-0002" in _codes(client, lee, priority="on", as_of="2016-11-15")
    assert "LG-0002" not in _codes(client, lee, priority="on", as_of="2016-12-01")


def test_the_page_names_the_kept_filters_and_keeps_them_through_a_refresh(client, history, personas):
    client.force_login(personas["lee"])
    client.cookies["taizhang_language"] = "en"
    page = client.get("/ledger/", {"done": "on", "as_of": "2016-06-30", "pilot": "off"}).content.decode()
    assert 'id="kept-filters"' in page and "As it stood on 2016-06-30" in page and "Not pilots" in page
    for name, value in (("as_of", "2016-06-30"), ("done", "on"), ("pilot", "off")):
        assert '<input type="hidden" name="%s" value="%s">' % (name, value) in page
    assert 'name="pilot" value="on"' not in page  # the checkbox gives way to the kept "not pilots"


def test_the_export_holds_the_rows_the_page_counts(client, history, personas):
    client.force_login(personas["lee"])
    client.cookies["taizhang_language"] = "en"
    params = {"done": "on", "as_of": "2016-06-30"}
    codes = _codes(client, personas["lee"], **params)
    data = b"".join(client.get("/ledger/export.xlsx", params).streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert [r[0] for r in rows[2:]] == codes
    assert "2016-06-30" in rows[0][0] and "Done" in rows[0][0]


@pytest.mark.parametrize(("params", "says"), [
    ({"done": "maybe"}, "maybe"), ({"pilot": "yes"}, "yes"), ({"as_of": "2015-10-31"}, "2015-11-01"),
    ({"as_of": "2016-11-16"}, "2016-11-16"),
])
def test_a_filter_that_cannot_be_read_is_400_and_shows_no_target(client, clock, targets, personas, params, says):
    client.force_login(personas["lee"])
    response = client.get("/ledger/", params)
    assert response.status_code == 400 and says in response.content.decode()
    assert response.context["page"].paginator.count == 0
