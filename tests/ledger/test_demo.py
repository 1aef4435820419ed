"""The demo ledger: the speech's 528 targets, exactly and deterministically."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.ledger.demo import DEMO_USERS, DemoBuilder, apportion, demo_load, demo_users
from taizhang.ledger.models import Target


def _by(field):
    return dict(Target.objects.values_list(field).annotate(n=Count("pk")))


def test_demo_generates_the_528_targets_of_the_speech(campaign):
    assert demo_load(campaign=campaign) == 528
    systems = dict(Target.objects.values_list("system__name").annotate(n=Count("pk")))
    assert systems == {"集体经济系统": 334, "国资系统": 67, "首钢系统": 42, "政府部门和社会单位": 85}
    assert len(_by("street")) == 9
    assert len(_by("target_type")) == 3
    assert sum(_by("street").values()) == 528
    assert not Target.objects.filter(responsible_unit__isnull=True).exists()
    assert Target.objects.values("code").distinct().count() == 528


def test_demo_is_deterministic_for_a_seed(campaign):
    demo_load(campaign=campaign, seed=7)
    first = list(Target.objects.order_by("code").values_list("code", "name", "address", "resident_population"))
    Target.objects.all().delete()
    OrgUnit.objects.filter(kind=OrgUnit.Kind.RIGHTS_UNIT).delete()
    demo_load(campaign=campaign, seed=7)
    again = list(Target.objects.order_by("code").values_list("code", "name", "address", "resident_population"))
    assert first == again


def test_demo_with_more_targets_keeps_the_shares(demo_database, campaign):
    call_command("demo", targets=5280, verbosity=0)
    systems = dict(Target.objects.values_list("system__code").annotate(n=Count("pk")))
    assert systems == {"JT": 3340, "GZ": 670, "SG": 420, "ZF": 850}


def test_apportion_sums_exactly():
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(528, [3, 1.5, 2, 3, 1, 1, 2, 1.5, 3])) == 528


def test_demo_accounts_one_per_role_the_group_one_in_the_legal_group(campaign):
    demo_load(campaign=campaign)
    rows = {username: unit for username, _role, unit in demo_users(campaign)}
    assert set(rows) == {"leader", "office", "group", "street", "unit", "discipline", "liaison"}
    assert rows["group"] == "政策法规组"  # the group with the legal duty, to show what a group may do
    assert demo_users(campaign) and Membership.objects.filter(user__username="group").count() == 1  # idempotent


def test_the_demo_logs_the_rights_units_it_creates(campaign):
    from taizhang.campaigns.models import OrgUnit
    from taizhang.core.changelog import Break, changelog_verify
    from taizhang.core.models import ChangeLogEntry
    from taizhang.ledger.demo import demo_load

    demo_load(campaign=campaign, total=60)
    units = set(OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT).values_list("pk", flat=True))
    logged = ChangeLogEntry.objects.filter(object_type="campaigns.orgunit", action="create",
                                           object_id__in=[str(pk) for pk in units])
    assert units and logged.count() == len(units)
    assert not any(isinstance(item, Break) for item in changelog_verify())


def test_the_demo_accounts_and_their_roles_are_in_the_change_log(campaign):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password

    from taizhang.core.changelog import Break, changelog_verify
    from taizhang.core.models import ChangeLogEntry
    from taizhang.ledger.demo import DEMO_PASSWORD, DEMO_REASON

    demo_load(campaign=campaign, total=60)
    demo_users(campaign)
    users = get_user_model().objects.filter(username__in=[u for u, _r, _d in DEMO_USERS])
    logged = ChangeLogEntry.objects.filter(object_type="accounts.user", action="create", reason=DEMO_REASON)
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(str(u.pk) for u in users)
    memberships = Membership.objects.filter(user__in=users)
    logged = ChangeLogEntry.objects.filter(object_type="accounts.membership", action="create", reason=DEMO_REASON)
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(str(m.pk) for m in memberships)
    assert all(u.check_password(DEMO_PASSWORD) and not u.profile.must_change_password for u in users)
    for user in users:
        validate_password(DEMO_PASSWORD, user)  # the public password follows the validators too
    # A role someone took away is given back, and logged; nothing else is written again.
    Membership.objects.filter(user__username="street").delete()
    count = ChangeLogEntry.objects.count()
    demo_users(campaign)
    assert ChangeLogEntry.objects.count() == count + 1
    assert ChangeLogEntry.objects.latest("id").object_type == "accounts.membership"
    assert not any(isinstance(item, Break) for item in changelog_verify())
@pytest.mark.django_db
def test_setup_demo_makes_a_larger_or_another_demo_ledger(settings):
    settings.DEBUG = True
    call_command("setup_demo", targets=60, seed=7, stdout=io.StringIO())
    stored = list(Target.objects.order_by("code").values_list("code", "name"))
    built, _units = DemoBuilder(Campaign.objects.get(), 7).build(60)
    assert stored == sorted((t["code"], t["name"]) for t in built)


def test_demo_on_a_campaign_with_targets_says_how_to_start_over(demo_database, campaign):
    call_command("demo", targets=20, verbosity=0)
    with pytest.raises(CommandError) as caught:
        call_command("demo", targets=20, verbosity=0)
    assert "already has targets" in str(caught.value)
    assert "mkdir var/demo2 && export TAIZHANG_DATA_DIR=var/demo2, then manage.py migrate" in str(caught.value)
    assert "setup_demo [--targets N] [--seed S]" in str(caught.value)
    assert Target.objects.count() == 20


def test_setup_demo_asked_for_another_ledger_on_a_full_one_says_how_to_start_over(demo_database, campaign):
    call_command("demo", targets=20, verbosity=0)
    out = io.StringIO()
    call_command("setup_demo", targets=50, stdout=out)
    assert "left as it is. To start over" in out.getvalue()
    assert Target.objects.count() == 20
