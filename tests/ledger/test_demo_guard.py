"""The demo set-up only ever writes to a database it made itself, and never in production."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.demo import DEMO_USERS
from taizhang.ledger.models import DemoDatabase, Target
from taizhang.remediation.models import Policy


def _state():
    """Everything the demo commands could write, passwords included."""
    return {
        "users": dict(get_user_model().objects.values_list("username", "password")),
        "campaigns": Campaign.objects.count(), "targets": Target.objects.count(),
        "policies": Policy.objects.count(), "history": ChangeLogEntry.objects.count(),
        "marked": DemoDatabase.objects.exists(),
    }


def _refused(command, **options):
    with pytest.raises(CommandError) as caught:
        call_command(command, stdout=io.StringIO(), **options)
    assert caught.value.returncode == 3  # `make run` serves the database as it is on 3
    return str(caught.value)


@pytest.mark.django_db
def test_setup_demo_on_an_empty_database_marks_it_then_loads_the_demo(settings):
    settings.DEBUG = True
    call_command("setup_demo", stdout=io.StringIO())
    assert DemoDatabase.objects.count() == 1
    assert Target.objects.count() == 528
    users = get_user_model().objects.all()
    assert {u.username for u in users if u.has_usable_password()} == {u for u, _r, _d in DEMO_USERS}
    # The story's other hands (the other streets' staff, each system's rights holders) cannot log in.
    street = Membership.objects.get(user__username="street").unit.code
    assert {u.username for u in users if not u.has_usable_password()} == {
        "demo-" + unit.code.lower() for unit in OrgUnit.objects.filter(kind__in=["street", "system"])
        if unit.code != street}


@pytest.mark.django_db
def test_setup_demo_on_a_marked_database_changes_nothing(settings):
    settings.DEBUG = True
    call_command("setup_demo", stdout=io.StringIO())
    office = get_user_model().objects.get(username="office")
    office.set_password("changed by the demo's user")
    office.save()
    before = _state()
    call_command("setup_demo", stdout=io.StringIO())
    assert _state() == before  # the changed password stays too


def test_setup_demo_refuses_a_real_ledger_and_writes_nothing(settings, targets, personas):
    settings.DEBUG = True
    before = _state()
    message = _refused("setup_demo")
    assert "TAIZHANG_DATABASE_URL" in message  # says how to get a demo instead
    assert _state() == before
    assert not get_user_model().objects.filter(username="office").exists()


def test_setup_demo_refuses_a_campaign_with_no_targets_yet(settings, campaign):
    # The case the issue names: a real deployment that loaded its preset and has not imported yet.
    settings.DEBUG = True
    before = _state()
    _refused("setup_demo")
    assert _state() == before
    assert before["targets"] == 0


@pytest.mark.django_db
def test_setup_demo_refuses_a_database_that_holds_only_users(settings):
    settings.DEBUG = True
    get_user_model().objects.create_user("office", password="the office's own")
    before = _state()
    _refused("setup_demo")
    assert _state() == before


@pytest.mark.django_db
def test_setup_demo_refuses_the_production_profile_even_on_an_empty_database(settings):
    settings.DEBUG = False
    message = _refused("setup_demo")
    assert "TAIZHANG_DEBUG=0" in message
    assert _state() == {"users": {}, "campaigns": 0, "targets": 0, "policies": 0, "history": 0, "marked": False}


@pytest.mark.parametrize("command", ["demo", "demo_accounts", "demo_policies"])
def test_demo_commands_refuse_a_database_without_the_mark(settings, campaign, command):
    settings.DEBUG = True
    before = _state()
    assert "setup_demo" in _refused(command)
    assert _state() == before


@pytest.mark.parametrize("command", ["demo", "demo_accounts", "demo_policies", "setup_demo"])
def test_demo_commands_refuse_production_even_on_a_demo_database(demo_database, settings, campaign, command):
    settings.DEBUG = False
    before = _state()
    _refused(command)
    assert _state() == before


def test_demo_accounts_on_a_demo_database_keeps_changed_passwords(demo_database, campaign):
    call_command("demo_accounts", stdout=io.StringIO())
    office = get_user_model().objects.get(username="office")
    office.set_password("changed")
    office.save()
    before = _state()
    call_command("demo_accounts", stdout=io.StringIO())
    assert _state() == before


@pytest.mark.django_db
def test_verify_history_passes_after_setup_demo(settings):
    settings.DEBUG = True
    call_command("setup_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("verify_history", stdout=out)
    assert "history verified" in out.getvalue()
    from taizhang.core.models import ChangeLogEntry

    # Every account the demo makes is in the log: one per role, and the story's own.
    assert ChangeLogEntry.objects.filter(object_type="accounts.user").count() == get_user_model().objects.count()
    assert get_user_model().objects.filter(username__in=[u for u, _r, _d in DEMO_USERS]).count() == len(DEMO_USERS)
