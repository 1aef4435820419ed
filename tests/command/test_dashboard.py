"""The dashboard: every figure is the count of the ledger it links to, each user sees its scope,
and what cannot be answered says why and changes nothing."""

import datetime
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from taizhang.core.models import ChangeLogEntry
from tests.conftest import ledger_state, make_target
from tests.history import TODAY, close, noon

CHARTS = ["burnup", "milestones", "streets", "forecast", "systems", "types", "states", "groups", "rebounds",
          "outcomes"]
WHOLE = ["lee", "carol", "gina", "jin"]


def _board(client, user, **params):
    client.force_login(user)
    response = client.get("/command/", params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.context["board"]


def _ledger_count(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.content.decode()[:1000])
    return response.context["page"].paginator.count


def _cell_number(cell):
    return int(cell.value)


@pytest.mark.parametrize(("persona", "params"), [
    ("lee", {}), ("lee", {"as_of": "2016-06-30"}), ("lee", {"as_of": "2016-10-20"}),  # the day 古城's rebounds
    ("alice", {}), ("dan", {"as_of": "2016-10-19"}),
])
def test_every_figure_is_the_count_of_the_ledger_it_opens(client, history, personas, persona, params):
    """Each clickable bar or point, and each linked count in the tables, for the same user and day."""
    board = _board(client, personas[persona], **params)
    assert [c.id for c in board.charts] == CHARTS
    counted, checked = {}, 0
    for chart in board.charts:
        figures = [(p["url"], p["count"], p) for p in chart.points()]
        figures += [(cell.url, _cell_number(cell), row[0].text) for row in chart.rows for cell in row if cell.url]
        for url, count, what in figures:
            if url not in counted:
                counted[url] = _ledger_count(client, url)
            assert counted[url] == count, (chart.id, what)
            checked += 1
    assert counted.get(board.summary["done_url"], _ledger_count(client, board.summary["done_url"])) == (
        board.summary["done"])
    assert checked > 40


def test_a_street_scope_links_to_that_streets_ledger(client, history, personas):
    board = _board(client, personas["lee"], street="LG", as_of="2016-09-30")
    assert board.summary["total"] == 10 and board.summary["done"] == 3
    for chart in board.charts:
        for point in chart.points():
            assert _ledger_count(client, point["url"]) == point["count"], (chart.id, point)


def test_the_figures_on_the_day_the_targets_were_created_and_on_the_first_phase(client, history, personas):
    assert _board(client, personas["lee"], as_of="2015-11-19").summary["total"] == 0
    board = _board(client, personas["lee"], as_of="2015-12-31")
    assert (board.summary["total"], board.summary["done"]) == (20, 1)


def test_the_lagging_street_is_warned_with_its_gap_and_weeks_left(client, history, personas):
    board = _board(client, personas["lee"])
    warned = [(w["street"], w["milestone"].due_on.isoformat(), w["forecast"].gap, w["forecast"].weeks_left)
              for w in board.warnings]
    assert warned == [("鲁谷街道", "2016-12-31", 3, 6), ("鲁谷街道", "2017-06-30", 7, 32)]
    page = client.get("/command/").content.decode()
    assert "鲁谷街道" in page.split('id="warnings"')[1].split("</section>")[0]
    assert _ledger_count(client, board.warnings[0]["street_url"]) == 7  # its targets not done


def test_a_street_with_no_pace_is_warned_before_the_milestone(client, history, personas):
    # On 2016-05-31 鲁谷 had 2 of the 3 due by 2016-06-30, and had closed none in 8 weeks.
    early = _board(client, personas["lee"], as_of="2016-05-31")
    assert [(w["street"], w["forecast"].gap, w["forecast"].weeks_left, w["forecast"].on) for w in early.warnings
            if w["milestone"].due_on == datetime.date(2016, 6, 30)] == [("鲁谷街道", 1, 4, None)]
    # By 2016-07-15 it had closed its third: 30 % met, no warning for it.
    later = _board(client, personas["lee"], as_of="2016-07-15")
    assert [w for w in later.warnings if w["milestone"].due_on == datetime.date(2016, 6, 30)] == []


def test_a_street_behind_a_past_milestone_is_warned_as_overdue(client, history, personas, clock):
    clock.moment = noon(datetime.date(2017, 1, 15))  # today moves past the 60 % milestone
    board = _board(client, personas["lee"])
    overdue = [(w["street"], w["forecast"].gap, w["forecast"].weeks_overdue) for w in board.warnings
               if w["forecast"].overdue]
    assert overdue == [("鲁谷街道", 3, 2)]
    page = client.get("/command/").content.decode()
    assert "overdue by 2" in page or "逾期 2" in page


def test_the_method_and_the_definition_are_on_the_page(client, history, personas):
    client.force_login(personas["lee"])
    page = client.get("/command/").content.decode()
    assert 'id="done-definition"' in page and "已销账" in page
    assert 'id="forecast-method"' in page and "8" in page.split('id="forecast-method"')[1][:400]


# Scope: who sees what

@pytest.mark.parametrize(("persona", "streets", "total"), [
    ("lee", ["古城街道", "鲁谷街道"], 20), ("carol", ["古城街道", "鲁谷街道"], 20),
    ("gina", ["古城街道", "鲁谷街道"], 20), ("jin", ["古城街道", "鲁谷街道"], 20),
    ("alice", ["古城街道"], 10), ("erin", ["古城街道"], 10), ("bob", ["鲁谷街道"], 10), ("dan", ["古城街道"], 10),
])
def test_each_chart_shows_only_what_the_user_may_see(client, history, personas, persona, streets, total):
    board = _board(client, personas[persona])
    assert board.summary["total"] == total
    by_id = {c.id: c for c in board.charts}
    for chart_id in ("streets", "rebounds", "outcomes"):
        assert by_id[chart_id].categories == streets, chart_id
    assert sorted({row[0].text for row in by_id["forecast"].rows}) == streets
    assert sum(p["count"] for p in by_id["states"].points()) == total
    assert {w["street"] for w in board.warnings} <= set(streets)


@pytest.mark.parametrize(("persona", "rank"), [
    ("alice", [("古城街道", 1, 9)]), ("erin", [("古城街道", 1, 9)]), ("bob", [("鲁谷街道", 2, 9)]),
    ("lee", []), ("carol", []), ("dan", []),
])
def test_a_street_sees_where_it_ranks_and_nothing_of_the_others(client, history, personas, persona, rank):
    board = _board(client, personas[persona])
    assert board.rank == rank
    page = client.get("/command/").content.decode()
    if persona in ("alice", "erin"):
        assert "鲁谷" not in page


# Downloads: exactly the table's numbers

def _sheet(response):
    data = b"".join(response.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _expected(cell):
    if cell.value is None or cell.value == "":
        return ""
    if isinstance(cell.value, datetime.date):
        return cell.value
    if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
        return float(round(cell.value, 1) if isinstance(cell.value, float) else cell.value)
    if hasattr(cell.value, "as_tuple"):
        return float(cell.value)
    return cell.text


@pytest.mark.parametrize("chart_id", CHARTS)
def test_each_download_holds_exactly_the_charts_table(client, history, personas, chart_id):
    board = _board(client, personas["lee"], as_of="2016-10-31")
    chart = board.chart(chart_id)
    response = client.get("/command/charts/%s.xlsx" % chart_id, {"as_of": "2016-10-31"})
    assert response.status_code == 200
    assert "20161031" in response["Content-Disposition"]
    rows = _sheet(response)
    assert "2016-10-31" in rows[0][0]
    assert rows[1] == [str(c) for c in chart.columns]
    got = [[v.date() if isinstance(v, datetime.datetime) else v for v in row] for row in rows[2:]]
    assert got == [[_expected(c) for c in row] for row in chart.rows]


def test_a_street_users_download_holds_its_street_only(client, history, personas):
    client.force_login(personas["alice"])
    rows = _sheet(client.get("/command/charts/streets.xlsx"))
    assert [row[0] for row in rows[2:]] == ["古城街道"]


# Authorization, URL by URL

URLS = ["/command/", *("/command/charts/%s.xlsx" % c for c in CHARTS)]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_is_sent_to_login(client, targets, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("persona", "query", "status"), [
    *((name, {}, 200) for name in ["lee", "carol", "gina", "jin", "alice", "bob", "erin", "dan"]),
    ("olive", {}, 404),  # no role: no campaign
    *((name, {"street": "LG"}, 200) for name in WHOLE), ("bob", {"street": "LG"}, 200),
    ("alice", {"street": "LG"}, 404), ("erin", {"street": "LG"}, 404), ("dan", {"street": "LG"}, 404),
    ("dan", {"street": "GC"}, 404),  # a unit opens its own ledger, not its street's
    ("alice", {"street": "GC"}, 200), ("erin", {"street": "GC"}, 200),
    ("lee", {"system": "GZ"}, 200), ("alice", {"system": "JT"}, 404), ("dan", {"system": "JT"}, 404),
])
def test_every_url_answers_each_persona_its_scope(client, targets, personas, persona, query, status):
    """The dashboard and every chart's download: 200 within the user's reach, 404 outside it; and a
    download never names a street the user does not see."""
    client.force_login(personas[persona])
    hidden = {"alice": "鲁谷", "erin": "鲁谷", "dan": "鲁谷", "bob": "古城"}.get(persona)
    for url in URLS:
        response = client.get(url, query)
        assert response.status_code == status, url
        if status == 200 and hidden and url.endswith(".xlsx"):
            assert hidden not in str(_sheet(response)), url


def test_an_unknown_chart_is_404(client, targets, personas):
    client.force_login(personas["lee"])
    assert client.get("/command/charts/nothing.xlsx").status_code == 404


def test_the_header_links_the_command_room_for_those_who_take_part(client, targets, personas):
    for name in ("lee", "alice", "dan"):
        client.force_login(personas[name])
        assert 'id="command-link"' in client.get("/ledger/").content.decode(), name
    client.force_login(personas["olive"])
    assert 'id="command-link"' not in client.get("/accounts/password/").content.decode()


# Bad input: a clear message, nothing changed

@pytest.mark.parametrize("url", ["/command/", "/command/charts/streets.xlsx"])
@pytest.mark.parametrize(("query", "says"), [
    ({"as_of": "2015-10-31"}, "2015-11-01"),  # before the campaign began
    ({"as_of": "2016-11-16"}, "2016-11-16"),  # after today (TODAY is 2016-11-15)
    ({"as_of": "2016-02-30"}, "YYYY-MM-DD"),
    ({"as_of": "x" * 5000}, "YYYY-MM-DD"),
    ({"street": "NOPE"}, "NOPE"),
    ({"system": "NOPE"}, "NOPE"),
    ({"street": "GC", "system": "JT"}, "not both"),
])
def test_what_cannot_be_answered_is_400_with_its_reason_and_changes_nothing(
        client, clock, targets, personas, url, query, says):
    client.force_login(personas["lee"])
    client.cookies["taizhang_language"] = "en"
    before = ledger_state()
    response = client.get(url, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert says in response.content.decode()
    assert ledger_state() == before


def test_the_ledger_refuses_an_as_of_day_before_the_campaign(client, history, personas):
    client.force_login(personas["lee"])
    client.cookies["taizhang_language"] = "en"
    count = ChangeLogEntry.objects.count()
    response = client.get("/ledger/", {"as_of": "2015-10-31", "done": "on"})
    assert response.status_code == 400 and "before the campaign began" in response.content.decode()
    assert ChangeLogEntry.objects.count() == count


def test_the_page_is_in_english_when_switched(client, history, personas):
    client.force_login(personas["lee"])
    client.cookies["taizhang_language"] = "en"
    board = client.get("/command/").context["board"]
    assert board.chart("streets").columns[0] == "Street"
    assert board.chart("burnup").series[0]["name"] == "Done"
    client.cookies["taizhang_language"] = "zh-hans"
    board = client.get("/command/").context["board"]
    assert board.chart("streets").columns[0] == "街道"


def test_today_is_the_default_day(client, history, personas):
    assert _board(client, personas["lee"]).scope.day == TODAY


def test_the_number_of_queries_does_not_grow_with_the_ledger(client, targets, personas, units):
    client.force_login(personas["lee"])
    client.get("/command/")
    cache.clear()  # the board computed, not served from the cache
    with CaptureQueriesContext(connection) as small:
        client.get("/command/")
    for n in range(20):
        make_target(units, "BJ-%04d" % n, "BJ", "SG")
    client.get("/command/")  # brings the projection up to the new entries (command.standing)
    cache.clear()
    with CaptureQueriesContext(connection) as large:
        client.get("/command/")
    assert len(large.captured_queries) == len(small.captured_queries) <= 25
    with CaptureQueriesContext(connection) as cached:
        client.get("/command/")
    assert len(cached.captured_queries) < len(large.captured_queries)


def test_a_cached_board_gives_way_to_the_next_write(client, history, personas, clock, units):
    done = _board(client, personas["lee"]).summary["done"]
    assert _board(client, personas["lee"]).summary["done"] == done  # served from the cache
    with clock.at(TODAY):
        close(make_target(units, "GC-0050", "GC", "JT"), TODAY, personas["carol"], clock)
    assert _board(client, personas["lee"]).summary["done"] == done + 1
    # The cache is per user: a street user's board is its own.
    assert _board(client, personas["alice"]).summary["done"] < done + 1


def test_another_campaign_shows_its_own_milestones_and_nothing_of_the_first(client, history, personas):
    from taizhang.accounts.models import Membership
    from taizhang.campaigns.models import OrgUnit
    from taizhang.campaigns.presets import preset_load
    from tests.conftest import PRESET

    example = PRESET.parent / "example-kaiqiang-2017.toml"
    other, _created = preset_load(text=example.read_text(encoding="utf-8"), source=example.name)
    lee = personas["lee"]
    Membership.objects.create(user=lee, role=Membership.Role.LEADER,
                              unit=OrgUnit.objects.get(campaign=other, kind=OrgUnit.Kind.COMMAND))
    client.force_login(lee)
    client.post("/campaign/", {"campaign": other.pk})
    # It begins after today: without a day the page shows its ledger as it stands, a day before it is refused.
    board = client.get("/command/").context["board"]
    assert board.scope.campaign == other and board.scope.day == TODAY and board.summary["total"] == 0
    assert client.get("/command/", {"as_of": "2016-11-01"}).status_code == 400
    assert [r[0].text for r in board.chart("milestones").rows] == [m.title for m in other.milestones.all()]
    other.milestones.all().delete()
    assert client.get("/command/").status_code == 200
