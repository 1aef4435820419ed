"""The campaign's change log (/ledger/history/): only the HQ office and discipline inspection
open it; filters by user, unit, target, kind and days; export of exactly the filtered entries;
and the chain verified from the page by the check `verify_history` runs."""

import datetime
import io
import re
import urllib.parse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from python_calamine import CalamineWorkbook

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from taizhang.remediation.petitions import petition_record
from tests.conftest import PRESET, make_target

LIST, EXPORT, VERIFY = "/ledger/history/", "/ledger/history/export.xlsx", "/ledger/history/verify/"
# session, user, memberships, campaigns, the filter's users and units, count, entries, their targets
# (and one per model whose records the entries name: none here), the header's unread notifications
QUERIES = 10
D = datetime.date


@pytest.fixture
def log(targets, personas):
    """Beside the targets' creation (by the system): alice changes GC-0001 and records a petition
    on it, carol changes LG-0001, both on 2016-03-01; alice changes GC-0002 on 2016-03-05."""
    alice, carol = personas["alice"], personas["carol"]

    def on(day, write):
        with pytest.MonkeyPatch.context() as patch:
            moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
            patch.setattr(timezone, "now", lambda: moment)
            return write()

    on(D(2016, 3, 1), lambda: target_update(target=targets["GC-0001"], actor=alice,
                                            changes={"flags": ["safety_hazard"]}, reason="现场核查"))
    on(D(2016, 3, 1), lambda: petition_record(target=targets["GC-0001"], actor=alice, petitioner="赵六",
                                              channel="visit", content="院内群租", received_on=D(2016, 3, 1)))
    on(D(2016, 3, 1), lambda: target_update(target=targets["LG-0001"], actor=carol, changes={"business_count": 3}))
    on(D(2016, 3, 5), lambda: target_update(target=targets["GC-0002"], actor=alice, changes={"is_pilot": True}))
    return targets


def _ids(response) -> list[int]:
    return [item.entry.pk for item, _target in response.context["items"]]


def _codes(response) -> set[str]:
    return {target.code if target else "" for _item, target in response.context["items"]}


# Who may open it: every URL, every persona.

PERSONA_STATUS = {"carol": 200, "jin": 200, "alice": 403, "bob": 403, "dan": 403, "erin": 403, "lee": 403,
                  "gina": 403, "olive": 404}


@pytest.mark.parametrize("persona", sorted(PERSONA_STATUS))
@pytest.mark.parametrize(("method", "url"), [("get", LIST), ("get", EXPORT), ("post", VERIFY)])
def test_only_the_office_and_discipline_inspection_reach_the_change_log(client, log, personas, persona, method,
                                                                       url):
    client.force_login(personas[persona])
    response = getattr(client, method)(url)
    assert response.status_code == PERSONA_STATUS[persona]
    if response.status_code != 200:
        assert "赵六".encode() not in response.content and b"PK" != response.content[:2]
    header = client.get("/ledger/").content.decode() if persona != "olive" else ""
    assert ('href="%s"' % LIST in header) is (PERSONA_STATUS[persona] == 200)


def test_a_superuser_reaches_it_and_anonymous_visitors_are_sent_to_log_in(client, log):
    for url in (LIST, EXPORT):
        assert client.get(url)["Location"].startswith("/accounts/login/")
    assert client.post(VERIFY)["Location"].startswith("/accounts/login/")
    admin = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(admin)
    assert client.get(LIST).status_code == 200 and client.get(EXPORT).status_code == 200


def test_the_chain_is_verified_only_by_post(client, log, personas):
    client.force_login(personas["carol"])
    assert client.get(VERIFY).status_code == 405


# What it lists, and the filters.

def test_it_lists_every_entry_of_the_campaign_newest_first_readably(client, log, personas):
    client.force_login(personas["jin"])
    response = client.get(LIST)
    assert response.status_code == 200
    everything = ChangeLogEntry.objects.filter(target_id__isnull=False) | ChangeLogEntry.objects.filter(
        object_type="campaigns.campaign")
    assert _ids(response) == sorted(everything.values_list("pk", flat=True), reverse=True)
    page = response.content.decode()
    assert "重大安全隐患" in page and "safety_hazard" not in page
    assert "信访件" in page and "现场核查" in page


@pytest.mark.parametrize(("query", "expected"), [
    ({"target": "GC-0001"}, {"GC-0001"}),
    ({"unit": "GC"}, {"GC-0001", "GC-0002", "GC-0003"}),
    ({"unit": "U-GC"}, {"GC-0001", "GC-0002"}),
    ({"unit": "JT"}, {"GC-0001", "GC-0002"}),
    ({"kind": "remediation.petition"}, {"GC-0001"}),
    ({"user": "alice"}, {"GC-0001", "GC-0002"}),
    ({"user": "carol"}, {"LG-0001"}),
    ({"user": "alice", "start": "2016-03-02"}, {"GC-0002"}),
    ({"start": "2016-03-01", "end": "2016-03-01"}, {"GC-0001", "LG-0001"}),
    ({"end": "2016-03-04", "unit": "LG"}, {"LG-0001"}),
])
def test_each_filter_narrows_the_list(client, log, personas, units, query, expected):
    client.force_login(personas["carol"])
    if "unit" in query:
        query["unit"] = units[query["unit"]].pk
    if "user" in query:
        query["user"] = personas[query["user"]].pk
    response = client.get(LIST, query)
    assert response.status_code == 200
    assert _codes(response) == expected
    entries = ChangeLogEntry.objects.filter(pk__in=_ids(response))
    if "kind" in query:
        assert set(entries.values_list("object_type", flat=True)) == {query["kind"]}
    if "user" in query:
        assert set(entries.values_list("actor_id", flat=True)) == {query["user"]}


def test_the_system_filter_lists_what_no_user_wrote(client, log, personas):
    client.force_login(personas["carol"])
    response = client.get(LIST, {"user": "system", "target": "GC-0001"})
    entries = ChangeLogEntry.objects.filter(pk__in=_ids(response))
    assert list(entries.values_list("action", "actor_id")) == [("create", None)]


@pytest.mark.parametrize(("query", "message"), [
    ({"target": "XX-9999"}, "本专项行动中没有编号为“XX-9999”的整治对象。"),
    ({"start": "2016-03-05", "end": "2016-03-01"}, "截止日期（2016-03-01）早于起始日期（2016-03-05）。"),
    ({"kind": "remediation.nothing"}, "remediation.nothing"),
    ({"unit": "999999"}, "999999"),
])
def test_a_filter_that_cannot_apply_says_why_and_lists_nothing(client, log, personas, query, message):
    client.force_login(personas["carol"])
    response = client.get(LIST, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["items"] == []
    assert client.get(EXPORT, query).status_code == 400


def test_the_list_is_paged_and_a_page_costs_the_same_queries_however_long(client, log, personas, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taizhang.ledger import history_views

    client.force_login(personas["carol"])
    monkeypatch.setattr(history_views, "PAGE_SIZE", 3)
    first = client.get(LIST)
    assert len(_ids(first)) == 3 and first.context["page"].has_next()
    second = client.get(LIST, {"page": 2})
    assert len(_ids(second)) == 3 and min(_ids(first)) > max(_ids(second))
    counts = {}
    for size in (3, 50):
        monkeypatch.setattr(history_views, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as captured:
            shown = len(_ids(client.get(LIST)))
        counts[shown] = len(captured.captured_queries)
    assert len(counts) == 2 and len(set(counts.values())) == 1, counts
    assert set(counts.values()) == {QUERIES}


def test_an_htmx_request_gets_the_results_alone(client, log, personas):
    client.force_login(personas["carol"])
    response = client.get(LIST, {"kind": "remediation.petition"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html


def test_it_shows_only_the_current_campaigns_entries(client, log, personas):
    from taizhang.campaigns.presets import preset_load

    text = PRESET.read_text(encoding="utf-8").replace('slug = "shijingshan-2015"', 'slug = "kaiqiang-2017"')
    second, _created = preset_load(text=text.replace('name = "石景山区治乱疏解建高端"', 'name = "开墙打洞整治"'))
    units = {u.code: u for u in OrgUnit.objects.filter(campaign=second)}
    elsewhere = make_target(units, "GC-0001", "GC", "JT")
    target_update(target=elsewhere, actor=None, changes={"business_count": 1})
    carol = personas["carol"]
    client.force_login(carol)
    first = client.get(LIST)
    shown = ChangeLogEntry.objects.filter(pk__in=_ids(first))
    assert not shown.filter(target_id=elsewhere.pk).exists()
    assert list(shown.filter(object_type="campaigns.campaign").values_list("object_id", flat=True)) == [
        str(log["GC-0001"].campaign_id)]
    # In the other campaign's office, carol sees that campaign's entries and none of the first's.
    Membership.objects.create(user=carol, role=Membership.Role.OFFICE, unit=units["OFFICE"])
    client.post("/campaign/", {"campaign": second.pk})
    other = ChangeLogEntry.objects.filter(pk__in=_ids(client.get(LIST)))
    assert set(other.values_list("target_id", flat=True)) == {elsewhere.pk, None}
    assert set(other.filter(target_id=None).values_list("object_id", flat=True)) == {str(second.pk)}


# Export

def _sheet(response) -> list[list]:
    data = b"".join(response.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_the_export_holds_exactly_the_filtered_entries_under_a_title_naming_the_filters(client, log, personas):
    client.force_login(personas["carol"])
    query = {"user": personas["alice"].pk, "target": "GC-0001"}
    response = client.get(EXPORT, query)
    assert response.status_code == 200
    disposition = urllib.parse.unquote(response["Content-Disposition"])
    assert disposition.endswith("变更记录-石景山区治乱疏解建高端-%s.xlsx" % timezone.localdate().strftime("%Y%m%d"))
    rows = _sheet(response)
    title, header, body = rows[0][0], rows[1], rows[2:]
    today = timezone.localdate().isoformat()
    assert title.startswith("石景山区治乱疏解建高端 · 变更记录 · 用户：alice；整治对象编号：GC-0001 · %s" % today)
    assert header == ["记录号", "时间", "用户", "记录类别", "记录", "整治对象编号", "操作", "变更内容", "原因"]
    shown = _ids(client.get(LIST, query))
    assert [int(row[0]) for row in body] == shown
    assert [row[3] for row in body] == ["信访件", "整治对象"]
    assert body[1][7] == "重点情形：— → 重大安全隐患\n版本：1 → 2"
    assert body[1][8] == "现场核查" and body[1][2] == "alice" and body[1][5] == "GC-0001"
    assert "信访人：赵六" in body[0][7]


def test_an_unfiltered_export_says_so_in_its_title_and_holds_every_entry(client, log, personas):
    client.force_login(personas["jin"])
    client.cookies["taizhang_language"] = "en"
    rows = _sheet(client.get(EXPORT))
    assert "· change log · all entries · exported" in rows[0][0]
    assert len(rows) - 2 == client.get(LIST).context["page"].paginator.count


# Verifying the chain

def _verify(client):
    return client.post(VERIFY, headers={"HX-Request": "true"}).content.decode()


def test_the_verify_button_reports_an_unbroken_chain_as_the_command_does(client, log, personas, capsys):
    client.force_login(personas["jin"])
    html = _verify(client)
    assert 'id="verdict-ok"' in html
    call_command("verify_history")
    checked = re.search(r"history verified: (\d+) entries", capsys.readouterr().out)[1]
    assert "已核验 %s 条记录" % checked in html


def test_the_verify_button_names_an_entry_altered_in_the_database(client, log, personas):
    victim = ChangeLogEntry.objects.filter(object_type="remediation.petition").get()
    ChangeLogEntry.objects.filter(pk=victim.pk).update(reason="改过的原因")
    client.force_login(personas["carol"])
    html = _verify(client)
    assert 'id="verdict-broken"' in html
    assert "第 %d 条记录写入后被改动（封印与内容不符）" % victim.pk in html


def test_the_verify_button_names_a_target_changed_around_the_log(client, log, personas):
    Target.objects.filter(pk=log["GC-0003"].pk).update(land_area=1)
    client.force_login(personas["carol"])
    client.cookies["taizhang_language"] = "en"
    html = _verify(client)
    assert 'id="verdict-mismatches"' in html
    assert "Land area (m²) is “1.00 m²” stored but “1200.00 m²” in the log" in html.replace("&ldquo;", "“").replace(
        "&rdquo;", "”")


def test_without_javascript_the_verdict_comes_back_in_the_whole_page(client, log, personas):
    client.force_login(personas["carol"])
    response = client.post(VERIFY)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="verdict-ok"' in html and "<html" in html and 'id="results"' in html


def test_the_page_shows_an_indicator_while_the_check_runs(client, log, personas):
    client.force_login(personas["carol"])
    html = client.get(LIST).content.decode()
    form = html.split('hx-post="%s"' % VERIFY, 1)[1].split("</form>", 1)[0]
    assert 'hx-indicator="#verifying"' in form and 'id="verifying" class="htmx-indicator"' in form
