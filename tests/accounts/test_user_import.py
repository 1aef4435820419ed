"""Importing accounts from a sheet: the dry run, all or nothing, each problem by row, column and value."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from taizhang.accounts.models import Membership, Profile, UserImportUpload
from taizhang.accounts.user_import import UserImportRejected, users_import, users_prepare
from taizhang.core.changelog import Break, changelog_verify
from taizhang.core.models import ChangeLogEntry
from tests.account_state import accounts_state
from tests.conftest import make_xlsx

pytestmark = pytest.mark.usefixtures("english")
User = get_user_model()
HEADER = ["姓名", "用户名", "手机", "单位", "角色"]


def sheet(*rows, header=HEADER):
    return make_xlsx(list(rows), header=header, title="人员名单", sheet="人员")


GOOD = sheet(
    ["王芳", "wangfang", "139 0000 0001", "古城", "街道分指"],
    ["王芳", "wangfang", None, "古城街道", "联系区领导"],  # a second role for the same account
    ["李娜", None, "13900000002", "鲁谷街道", "street sub-command staff"],  # the phone is the user name
    ["赵强", "zhaoqiang", None, "古城杨庄股份经济合作社", "地权单位"],
)


def prepare(campaign, actor, data, **kwargs):
    return users_prepare(campaign=campaign, actor=actor, data=data, filename="人员.xlsx", **kwargs)


def test_the_dry_run_says_what_would_change_and_writes_nothing(campaign, personas, units):
    before = accounts_state()
    report = prepare(campaign, personas["carol"], GOOD)
    assert report.ok and report.rows_read == 4
    assert [(p.username, p.name, p.phone, p.rows) for p in report.new] == [
        ("wangfang", "王芳", "13900000001", [3, 4]), ("13900000002", "李娜", "13900000002", [5]),
        ("zhaoqiang", "赵强", "", [6])]
    assert [(r.unit.code, r.role) for r in report.new[0].roles] == [("GC", "street"), ("GC", "liaison")]
    assert accounts_state() == before


def test_applying_makes_every_account_with_its_roles_in_the_change_log(campaign, personas, units):
    report = users_import(campaign=campaign, actor=personas["carol"], data=GOOD, filename="人员.xlsx")
    assert report.applied and set(report.passwords) == {"wangfang", "13900000002", "zhaoqiang"}
    for username, password in report.passwords.items():
        user = User.objects.get(username=username)
        assert user.check_password(password) and user.profile.must_change_password
    assert set(Membership.objects.filter(user__username="wangfang").values_list("unit__code", "role")) == {
        ("GC", "street"), ("GC", "liaison")}
    assert Membership.objects.get(user__username="zhaoqiang").unit == units["U-GC"]
    created = ChangeLogEntry.objects.filter(reason="import of 人员.xlsx", actor=personas["carol"])
    assert sorted(created.values_list("object_type", flat=True)) == ["accounts.membership"] * 4 + ["accounts.user"] * 3
    assert not any(isinstance(item, Break) for item in changelog_verify())


def test_an_existing_account_gets_its_new_roles_and_details_and_blanks_change_nothing(campaign, personas, units):
    Profile.objects.create(user=personas["alice"], phone="13800000000")
    data = sheet(["艾丽丝", "alice", None, "鲁谷", "联系区领导"], ["艾丽丝", "alice", None, "古城", "街道分指"],
                 [None, "bob", None, "鲁谷", "街道分指"])
    report = prepare(campaign, personas["carol"], data)
    assert report.ok and not report.new and report.unchanged == 1  # bob: nothing new
    [plan] = report.changed
    assert plan.diffs == [("Full name", "", "艾丽丝")]  # the blank phone keeps 13800000000
    assert [(r.unit.code, r.role) for r in plan.roles] == [("LG", "liaison")]  # the street role she holds
    users_import(campaign=campaign, actor=personas["carol"], data=data, filename="人员.xlsx")
    alice = User.objects.get(username="alice")
    assert alice.first_name == "艾丽丝" and alice.profile.phone == "13800000000"
    assert alice.memberships.count() == 2 and alice.check_password("correct horse battery")  # no reset


BAD_ROWS = [
    (["王芳", "wangfang", None, "不存在的单位", "街道分指"], "Row 4, column “Unit”: No unit “不存在的单位”"),
    (["王芳", "wangfang", None, "古城", "国王"], "Row 4, column “Role”: Not a role; write one of:"),
    (["王芳", "wangfang", "call me", "古城", "街道分指"], "Row 4, column “Phone”: Not a phone number"),
    (["王芳", None, None, "古城", "街道分指"], "Row 4, column “User name”: Give a user name, or a phone number"),
    (["王芳", "wang fang!", None, "古城", "街道分指"], "Row 4, column “User name”: Enter a valid username."),
    (["王芳", "wangfang", None, "集体经济系统", "街道分指"], "Row 4, column “Role”: A street sub-command staff in"),
    (["王\x00芳", "wangfang", None, "古城", "街道分指"], "Row 4, column “Full name”: Contains a character"),
    (["王" * 151, "wangfang", None, "古城", "街道分指"], "Row 4, column “Full name”: Longer than 150 characters."),
    ([None, "wangfang", None, "古城", "街道分指"], "Row 4, column “Full name”: Give the person's name"),
    (["王芳", "wangfang", None, None, "街道分指"], "Row 4, column “Unit”: Give the unit."),
    (["Dan", "dan", None, "古城", "街道分指"], "Row 4, column “User name”: “dan” is deactivated"),
    (["Alice", "ALICE", None, "古城", "街道分指"], "Row 4, column “User name”: The account is “alice”"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_a_bad_row_is_named_and_nothing_changes(campaign, personas, units, row, message):
    User.objects.filter(username="dan").update(is_active=False)
    data = sheet(["赵强", "zhaoqiang", None, "古城", "街道分指"], row)
    before = accounts_state()
    report = prepare(campaign, personas["carol"], data)
    assert [str(p) for p in report.problems if str(p).startswith(message)], [str(p) for p in report.problems]
    with pytest.raises(UserImportRejected):
        users_import(campaign=campaign, actor=personas["carol"], data=data, filename="人员.xlsx")
    assert accounts_state() == before  # the good first row was not made either
    assert not User.objects.filter(username="zhaoqiang").exists()


def test_rows_that_disagree_about_one_account_are_a_problem(campaign, personas, units):
    data = sheet(["王芳", "wangfang", "13900000001", "古城", "街道分指"],
                 ["王小芳", "wangfang", "13900000001", "鲁谷", "街道分指"],
                 ["李娜", "lina", None, "古城", "街道分指"], ["李娜", "LiNa", None, "鲁谷", "街道分指"])
    problems = [str(p) for p in prepare(campaign, personas["carol"], data).problems]
    assert problems == ["Row 4, column “Full name”: Row 3 gives this account “王芳”.",
                        "Row 6, column “User name”: Differs only in upper and lower case from “lina” (row 5): "
                        "one account, one way of writing it."]


def test_an_account_the_office_may_not_manage_is_a_problem(campaign, personas, units):
    superuser = User.objects.create_superuser("root", password="root password 9")
    data = sheet(["Root", superuser.username, None, "古城", "街道分指"])
    assert [str(p) for p in prepare(campaign, personas["carol"], data).problems] == [
        "Row 3, column “User name”: “root” is not an account you may manage."]


@pytest.mark.parametrize("persona", ["alice", "dan", "lee", "gina", "jin", "erin"])
def test_only_the_office_may_import(campaign, personas, units, persona):
    before = accounts_state()
    report = prepare(campaign, personas[persona], GOOD)
    assert not report.ok and all("that you may place accounts in" in str(p) for p in report.problems)
    with pytest.raises(UserImportRejected):
        users_import(campaign=campaign, actor=personas[persona], data=GOOD, filename="人员.xlsx")
    assert accounts_state() == before


def test_header_variants_and_a_gbk_csv(campaign, personas, units):
    data = "名字,手机号码,所在单位,身份\n王芳,13900000001,古城街道,街道分指工作人员\n".encode("gb18030")
    report = users_prepare(campaign=campaign, actor=personas["carol"], data=data, filename="名单.csv")
    assert report.ok and [(p.username, p.name) for p in report.new] == [("13900000001", "王芳")]


@pytest.mark.parametrize(("header", "message"), [
    (["姓名", "用户名", "手机", "单位"], "Required column missing: Role."),
    (["姓名", "单位", "角色", "备注"], "Required column missing: User name or Phone."),
])
def test_a_missing_column_is_named(campaign, personas, header, message):
    data = sheet(["王芳"] * len(header), header=header)
    assert [str(p) for p in prepare(campaign, personas["carol"], data).problems] == [message]


def test_a_hostile_workbook_is_refused_before_it_is_read(campaign, personas):
    from tests.ledger.test_workbook_bombs import FAR_CORNER

    before = accounts_state()
    [problem] = prepare(campaign, personas["carol"], FAR_CORNER).problems
    assert "the limit is" in str(problem)
    assert accounts_state() == before


def test_an_account_made_by_someone_else_since_the_check_is_refused(campaign, personas, units):
    report = prepare(campaign, personas["carol"], GOOD)
    User.objects.create_user("zhaoqiang", password="x")
    before = accounts_state()
    with pytest.raises(UserImportRejected) as rejected:
        users_import(campaign=campaign, actor=personas["carol"], data=GOOD, filename="人员.xlsx", seen=report.seen)
    assert "Row 6, column “User name”: This account was made or changed by someone else since your check" in [
        str(p)[:100] for p in rejected.value.report.problems][0]
    assert accounts_state() == before


# The page.

def _upload(client, data, name="人员.xlsx"):
    return client.post("/accounts/users/import/", {"file": _file(data, name)},
                       HTTP_ACCEPT_LANGUAGE="en")


def _file(data, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_the_page_checks_then_applies_once_and_shows_the_passwords_once(client, personas, units):
    client.force_login(personas["carol"])
    before = accounts_state()
    response = _upload(client, GOOD)
    assert response.status_code == 200 and "3 new accounts" in response.text
    assert accounts_state()[:3] == before[:3]
    upload = UserImportUpload.objects.get()
    response = client.post("/accounts/users/import/%s/apply/" % upload.pk, {"reason": "第一批"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and 'id="applied"' in response.text
    for username in ("wangfang", "13900000002", "zhaoqiang"):
        password = response.context["report"].passwords[username]
        assert password in response.text and User.objects.get(username=username).check_password(password)
    assert ChangeLogEntry.objects.filter(reason="第一批").count() == 7
    assert client.post("/accounts/users/import/%s/apply/" % upload.pk).status_code == 404  # applied once
    assert bytes(UserImportUpload.objects.get().data) == b""  # its bytes dropped


def test_the_page_shows_problems_and_offers_no_apply(client, personas, units):
    client.force_login(personas["carol"])
    response = _upload(client, sheet(["王芳", "wangfang", None, "火星", "街道分指"]))
    assert "Row 3, column “Unit”: No unit “火星”" in response.text and 'id="apply"' not in response.text
    upload = UserImportUpload.objects.get()
    before = accounts_state()
    response = client.post("/accounts/users/import/%s/apply/" % upload.pk, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "火星" in response.text
    assert accounts_state() == before


def test_an_upload_is_applied_only_by_its_uploader(client, personas, units, django_user_model):
    client.force_login(personas["carol"])
    _upload(client, GOOD)
    upload = UserImportUpload.objects.get()
    other = django_user_model.objects.create_user("carol2", password="x")
    Membership.objects.create(user=other, unit=units["OFFICE"], role=Membership.Role.OFFICE)
    client.force_login(other)
    before = accounts_state()
    assert client.post("/accounts/users/import/%s/apply/" % upload.pk).status_code == 404
    assert accounts_state() == before


def test_a_file_too_large_is_refused_by_its_declared_size(client, personas, settings):
    settings.TAIZHANG_IMPORT_MAX_BYTES = 100
    client.force_login(personas["carol"])
    response = _upload(client, GOOD)
    assert response.status_code == 400 and "the limit is 100" in response.text
    assert not UserImportUpload.objects.exists()


# The command.

def test_the_command_dry_runs_then_applies(campaign, personas, units, tmp_path):
    path = tmp_path / "人员.xlsx"
    path.write_bytes(GOOD)
    out = io.StringIO()
    call_command("import_users", str(path), "--dry-run", "--user", "carol", stdout=out)
    assert "new 3" in out.getvalue() and not User.objects.filter(username="wangfang").exists()
    out = io.StringIO()
    call_command("import_users", str(path), "--user", "carol", "--reason", "第一批", stdout=out)
    wangfang = User.objects.get(username="wangfang")
    line = next(line for line in out.getvalue().splitlines() if line.strip().startswith("wangfang"))
    assert wangfang.check_password(line.split()[-1])
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(sheet(["王芳", "x1", None, "火星", "街道分指"]))
    before = accounts_state()
    with pytest.raises(CommandError, match="1 problems"):
        call_command("import_users", str(bad), stdout=io.StringIO(), stderr=io.StringIO())
    assert accounts_state() == before
