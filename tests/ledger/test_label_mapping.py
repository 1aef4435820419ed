"""Labels the ledger does not know: grouped by column with their rows and the closest known
value, mapped by the HQ office to a known value and saved as an alias of the campaign."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from taizhang.campaigns.models import LabelAlias
from taizhang.campaigns.presets import preset_load
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.label_aliases import LabelMapError, Mapping, label_aliases_save
from taizhang.ledger.models import Target
from tests.conftest import HEADER, PRESET, gc_row, ledger_state, make_xlsx

FLAG_HEADER = [*HEADER, "重点情形"]


def _prepare(campaign, user, data, **kwargs):
    return import_prepare(campaign=campaign, user=user, data=data, filename="台账.xlsx", **kwargs)


def _state():
    return ledger_state(), list(LabelAlias.objects.values_list("column", "text", "value"))


@pytest.fixture
def odd_words():
    """Rows written the way an office writes: 古城区 for 古城街道, 废品收集点 for 废品回收, a
    situation flag 安全隐患大, and one unknown word with nothing like it."""
    rows = [gc_row("GC-0101", 所属街道="古城区", 类型="废品收集点"), gc_row("GC-0102", 所属街道="古城区"),
            gc_row("GC-0103", 类型="废品收集点"), gc_row("GC-0104", 所属街道="古城区", 所属系统="火星")]
    flags = ["安全隐患大", "安全隐患大、环境脏乱差", None, None]
    return make_xlsx([[*row, flag] for row, flag in zip(rows, flags, strict=True)], header=FLAG_HEADER)


def test_the_check_groups_unknown_labels_by_column_with_rows_and_the_closest_value(
        targets, personas, campaign, odd_words):
    report = _prepare(campaign, personas["carol"], odd_words)
    assert [(u.header, u.text, u.rows, u.suggestion_label) for u in report.unknown_labels] == [
        ("类型", "废品收集点", [3, 5], "废品回收"),
        ("街道", "古城区", [3, 4, 6], "古城街道"),
        ("所属系统", "火星", [6], ""),
        ("重点情形", "安全隐患大", [3, 4], "重大安全隐患"),
    ]
    street = report.unknown_labels[1]
    assert street.suggestion == "GC" and ("GC", "古城街道") in street.choices


def test_the_office_maps_a_word_and_every_import_after_reads_it(targets, personas, campaign, odd_words):
    carol = personas["carol"]
    saved = label_aliases_save(campaign=campaign, actor=carol, mappings=[
        Mapping("街道", "古城区", "古城街道"), Mapping("类型", "废品收集点", "scrap"),
        Mapping("重点情形", "安全隐患大", "重大安全隐患"), Mapping("system", "火星", "国资")])
    assert saved == 4
    assert sorted(LabelAlias.objects.values_list("column", "text", "value")) == [
        ("flags", "安全隐患大", "safety_hazard"), ("street", "古城区", "GC"), ("system", "火星", "GZ"),
        ("target_type", "废品收集点", "scrap")]
    entry = ChangeLogEntry.objects.filter(object_type="campaigns.labelalias").order_by("id").first()
    assert entry.actor == carol and entry.after == {"column": "street", "text": "古城区", "value": "GC"}
    report = _prepare(campaign, carol, odd_words)
    assert report.problems == [] and report.unknown_labels == []
    target_import(campaign=campaign, user=carol, data=odd_words, filename="台账.xlsx")
    first = Target.objects.select_related("street", "target_type").get(code="GC-0101")
    assert (first.street.name, first.target_type.name, first.flags) == ("古城街道", "废品回收", ["safety_hazard"])


def test_a_mapping_is_kept_when_the_preset_is_loaded_again(targets, personas, campaign):
    label_aliases_save(campaign=campaign, actor=personas["carol"], mappings=[Mapping("街道", "古城区", "GC")])
    preset_load(text=PRESET.read_text(encoding="utf-8"))
    report = _prepare(campaign, personas["carol"], make_xlsx([gc_row("GC-0101", 所属街道="古城区")]))
    assert report.problems == []


def test_a_mapped_word_can_be_mapped_again_and_the_change_is_logged(targets, personas, campaign):
    carol = personas["carol"]
    label_aliases_save(campaign=campaign, actor=carol, mappings=[Mapping("街道", "古城区", "GC")])
    assert label_aliases_save(campaign=campaign, actor=carol, mappings=[Mapping("街道", "古城区", "GC")]) == 0
    assert label_aliases_save(campaign=campaign, actor=carol, mappings=[Mapping("街道", "古城区", "鲁谷")]) == 1
    assert LabelAlias.objects.get().value == "LG"
    entry = ChangeLogEntry.objects.filter(object_type="campaigns.labelalias").last()
    assert (entry.action, entry.before["value"], entry.after["value"]) == ("update", "GC", "LG")


@pytest.mark.parametrize(("mapping", "needle"), [
    (Mapping("街道", "古城区", "火星街道"), "“火星街道”不是已知的街道"),
    (Mapping("名称", "大院", "杨庄大院"), "“名称”列没有可对应的标签"),
    (Mapping("颜色", "红", "蓝"), "没有“颜色”列"),
    (Mapping("类型", "沙石料场", "废品回收"), "“沙石料场”已表示类型“沙石料场”"),
    (Mapping("街道", "古城", "鲁谷"), "“古城”已表示街道“古城街道”"),
    (Mapping("街道", "", "古城"), "请填写要对应的词"),
    (Mapping("重点情形", "安全、环境", "重大安全隐患"), "不是一个重点情形"),
])
def test_a_mapping_that_cannot_be_made_is_named_and_nothing_is_saved(targets, personas, campaign, mapping, needle):
    before = _state()
    with pytest.raises(LabelMapError, match=needle):
        label_aliases_save(campaign=campaign, actor=personas["carol"],
                           mappings=[Mapping("街道", "古城区", "古城"), mapping])
    assert _state() == before


def test_only_the_hq_office_may_map_labels(targets, personas, campaign):
    before = _state()
    for name in ("alice", "lee", "gina", "dan"):
        with pytest.raises(LabelMapError, match="只有指挥部办公室"):
            label_aliases_save(campaign=campaign, actor=personas[name], mappings=[Mapping("街道", "古城区", "古城")])
    assert _state() == before


def test_a_new_unit_named_like_a_known_one_is_questioned_and_can_be_mapped(targets, personas, campaign):
    data = make_xlsx([gc_row("GC-0101", 责任单位="古城杨庄经济合作社"), gc_row("GC-0102", 责任单位="全新物流公司")])
    report = _prepare(campaign, personas["carol"], data)
    assert report.ok and report.new_units == ["全新物流公司", "古城杨庄经济合作社"]
    assert [(u.text, u.rows, u.suggestion, u.new_unit) for u in report.unknown_labels] == [
        ("古城杨庄经济合作社", [3], "U-GC", True)]
    label_aliases_save(campaign=campaign, actor=personas["carol"], mappings=[
        Mapping("责任单位", "古城杨庄经济合作社", "U-GC")])
    target_import(campaign=campaign, user=personas["carol"], data=data, filename="台账.xlsx")
    assert Target.objects.get(code="GC-0101").responsible_unit.code == "U-GC"
    assert Target.objects.get(code="GC-0102").responsible_unit.name == "全新物流公司"


def test_the_command_reads_mappings_and_prints_the_suggestions(targets, campaign, odd_words, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(odd_words)
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), dry_run=True, verbosity=0)
    out = capsys.readouterr().out
    assert "街道 “古城区”: 3 rows (3, 4, 6); closest: 古城街道   --map 街道:古城区=古城街道" in out
    assert "所属系统 “火星”: 1 rows (6)" in out
    maps = ["街道:古城区=古城街道", "类型：废品收集点＝废品回收", "重点情形:安全隐患大=safety_hazard", "system:火星=GZ"]
    # A dry run reads them and saves nothing; applying saves them with the rows.
    call_command("import_ledger", str(path), dry_run=True, mappings=maps, verbosity=0)
    assert not LabelAlias.objects.exists() and not Target.objects.filter(code="GC-0101").exists()
    call_command("import_ledger", str(path), mappings=maps, verbosity=0)
    assert LabelAlias.objects.count() == 4 and Target.objects.get(code="GC-0104").system.code == "GZ"
    entries = ChangeLogEntry.objects.filter(object_type="campaigns.labelalias")
    assert entries.count() == 4 and {e.request_id for e in entries} == {
        ChangeLogEntry.objects.filter(object_type="ledger.target").last().request_id}


@pytest.mark.parametrize(("spec", "needle"), [
    ("街道:古城区=火星", "“火星”不是已知的街道"),
    ("名称:大院=杨庄", "“名称”列没有可对应的标签"),
    ("街道古城区古城", "不是对应关系"),
])
def test_the_command_refuses_a_bad_mapping_and_changes_nothing(targets, campaign, odd_words, tmp_path, spec, needle):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(odd_words)
    before = _state()
    for dry_run in (True, False):
        with pytest.raises(CommandError, match=needle):
            call_command("import_ledger", str(path), dry_run=dry_run, mappings=["街道:古城区=古城", spec], verbosity=0)
    assert _state() == before


def test_mappings_given_with_a_file_that_has_problems_are_not_saved(targets, personas, campaign, odd_words):
    before = _state()
    with pytest.raises(ImportRejected):
        target_import(campaign=campaign, user=personas["carol"], data=odd_words, filename="台账.xlsx",
                      mappings=[Mapping("街道", "古城区", "古城")])
    assert _state() == before


def test_the_command_as_a_street_user_may_not_map(targets, personas, campaign, odd_words, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(odd_words)
    with pytest.raises(CommandError, match="只有指挥部办公室"):
        call_command("import_ledger", str(path), user="alice", mappings=["街道:古城区=古城"], verbosity=0)
    assert not LabelAlias.objects.exists()


def _upload(client, user, data, **headers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from taizhang.ledger.models import ImportUpload

    client.force_login(user)
    response = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", data)}, headers=headers)
    return response, ImportUpload.objects.filter(user=user).latest("uploaded_at")


def _map(client, upload, rows, **headers):
    data = {"column": [r[0] for r in rows], "text": [r[1] for r in rows], "value": [r[2] for r in rows]}
    return client.post("/ledger/import/%s/map/" % upload.pk, data, headers=headers)


def test_the_page_offers_the_office_a_choice_per_unknown_label_and_checks_again(
        client, targets, personas, campaign, odd_words):
    response, upload = _upload(client, personas["carol"], odd_words, **{"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="unknown-labels"' in html and html.count('<select name="value"') == 4
    assert '<option value="GC" selected>古城街道</option>' in html
    assert 'id="apply"' not in html
    response = _map(client, upload, [("street", "古城区", "GC"), ("target_type", "废品收集点", "scrap"),
                                     ("system", "火星", "GZ"), ("flags", "安全隐患大", "safety_hazard")],
                    **{"HX-Request": "true"})
    assert response.status_code == 200 and response.context["mapped"] == 4
    report = response.context["report"]
    assert report.ok and len(report.new) == 4 and report.unknown_labels == []
    html = response.content.decode()
    assert 'id="apply"' in html and "已对应 4 个标签" in html
    assert LabelAlias.objects.count() == 4
    assert ChangeLogEntry.objects.filter(object_type="campaigns.labelalias", actor=personas["carol"]).count() == 4


def test_a_choice_left_empty_maps_nothing_and_the_labels_stay_unknown(client, targets, personas, campaign, odd_words):
    _response, upload = _upload(client, personas["carol"], odd_words)
    response = _map(client, upload, [("street", "古城区", ""), ("system", "火星", "")])
    assert response.context["mapped"] == 0 and not LabelAlias.objects.exists()
    assert len(response.context["report"].unknown_labels) == 4


def test_a_mapping_to_a_value_that_does_not_exist_is_named_and_saves_nothing(
        client, targets, personas, campaign, odd_words):
    _response, upload = _upload(client, personas["carol"], odd_words)
    before = _state()
    response = _map(client, upload, [("street", "古城区", "GC"), ("system", "火星", "NOPE")])
    assert "“NOPE”不是已知的所属系统" in response.content.decode()
    assert response.context["map_error"] and not response.context["report"].ok
    assert _state() == before


def test_a_street_user_sees_the_suggestions_but_may_not_map(client, targets, personas, campaign, odd_words):
    response, upload = _upload(client, personas["alice"], odd_words)
    html = response.content.decode()
    assert 'id="unknown-labels"' in html and "最接近：古城街道" in html
    assert '<select name="value"' not in html and "请指挥部办公室" in html
    response = _map(client, upload, [("street", "古城区", "GC")])
    assert "只有指挥部办公室可以对应标签" in response.content.decode()
    assert not LabelAlias.objects.exists()


def test_without_javascript_mapping_answers_with_the_whole_page(client, targets, personas, campaign, odd_words):
    _response, upload = _upload(client, personas["carol"], odd_words)
    response = _map(client, upload, [("street", "古城区", "GC")])
    html = response.content.decode()
    assert "<html" in html and 'id="import-form"' in html and 'id="report"' in html


def test_mapping_answers_only_the_uploader_on_a_kept_file(client, targets, personas, campaign, odd_words):
    from django.utils import timezone

    from taizhang.ledger.models import ImportUpload

    _response, upload = _upload(client, personas["carol"], odd_words)
    url = "/ledger/import/%s/map/" % upload.pk
    client.logout()
    assert client.post(url, {"column": "street", "text": "古城区", "value": "GC"})["Location"].startswith(
        "/accounts/login/")
    for name in ("alice", "lee", "olive"):
        client.force_login(personas[name])
        assert client.post(url, {"column": "street", "text": "古城区", "value": "GC"}).status_code == 404
    client.force_login(personas["carol"])
    assert client.get(url).status_code == 405
    ImportUpload.objects.filter(pk=upload.pk).update(uploaded_at=timezone.now() - datetime.timedelta(days=2))
    assert client.post(url, {"column": "street", "text": "古城区", "value": "GC"}).status_code == 404
    assert not LabelAlias.objects.exists()


def _map_word(username, value):
    from django.contrib.auth import get_user_model

    from taizhang.campaigns.models import Campaign

    user = get_user_model().objects.get(username=username)
    return label_aliases_save(campaign=Campaign.objects.get(), actor=user,
                              mappings=[Mapping("街道", "古城区", value)])


@pytest.mark.django_db(transaction=True)
def test_two_offices_mapping_one_word_at_once_write_one_after_the_other(targets, personas, campaign):
    from taizhang.accounts.models import Membership
    from taizhang.campaigns.models import OrgUnit
    from taizhang.core.changelog import Break, changelog_verify
    from tests.racing import race

    office = OrgUnit.objects.get(campaign=campaign, code="OFFICE")
    olive = personas["olive"]
    Membership.objects.create(user=olive, unit=office, role=Membership.Role.OFFICE)
    answers = race("tests.ledger.test_label_mapping:_map_word", [("carol", "GC"), ("olive", "LG")])
    assert answers == [1, 1]
    alias = LabelAlias.objects.get()
    entries = list(ChangeLogEntry.objects.filter(object_type="campaigns.labelalias").order_by("id"))
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before == entries[0].after and entries[1].after["value"] == alias.value
    assert not any(isinstance(item, Break) for item in changelog_verify())


def test_an_unknown_flag_of_several_words_is_one_word_to_map(targets, personas, campaign):
    row = gc_row("GC-0101")
    data = make_xlsx([[*row, "重大安全隐患 火灾风险、Fire risk"]], header=FLAG_HEADER)
    report = _prepare(campaign, personas["carol"], data)
    assert [u.text for u in report.unknown_labels] == ["火灾风险", "fire risk"]
    label_aliases_save(campaign=campaign, actor=personas["carol"], mappings=[
        Mapping("Situation flags", "Fire Risk", "major safety hazard"),
        Mapping("重点情形", "火灾风险", "重大安全隐患")])
    target_import(campaign=campaign, user=personas["carol"], data=data, filename="台账.xlsx")
    assert Target.objects.get(code="GC-0101").flags == ["safety_hazard"]
