"""Two offices changing the same account at once, in two real processes: one wins, the other is told."""

import pytest
from django.contrib.auth import get_user_model

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import OrgUnit
from taizhang.core.models import ChangeLogEntry
from tests.racing import race

User = get_user_model()


def _slowly(module, name):
    """Make `module.name` wait before it runs: between a service's checks and its write."""
    import time

    real = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    setattr(module, name, slow)


def _create_in_child(office: str, unit_id: int) -> str:
    from taizhang.accounts import services

    _slowly(services, "make_password")  # after the user name was found free, before the insert
    try:
        services.user_create(actor=User.objects.get(username=office), username="wangfang", name="王芳",
                             password="temporary pass 1", memberships=[(OrgUnit.objects.get(pk=unit_id), "street")])
    except services.AccountError:
        return "refused"
    return "created"


def _deactivate_in_child(office: str, user_id: int) -> str:
    from taizhang.accounts import services

    _slowly(services, "_profile")  # after the account was read, before it is written
    try:
        services.user_deactivate(actor=User.objects.get(username=office), user_id=user_id)
    except services.AccountError:
        return "refused"
    return "deactivated"


def _second_office(units):
    user = User.objects.create_user("carol2", password="x")
    Membership.objects.create(user=user, unit=units["OFFICE"], role=Membership.Role.OFFICE)


@pytest.mark.django_db(transaction=True)
def test_two_offices_creating_the_same_account_at_once_create_it_once(personas, units):
    _second_office(units)
    answers = race("tests.accounts.test_user_races:_create_in_child",
                   [("carol", units["GC"].pk), ("carol2", units["GC"].pk)])
    assert answers == ["created", "refused"]
    assert User.objects.filter(username="wangfang").count() == 1
    assert ChangeLogEntry.objects.filter(object_type="accounts.user", action="create").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_offices_deactivating_one_account_at_once_log_it_once(personas, units):
    _second_office(units)
    alice = personas["alice"]
    answers = race("tests.accounts.test_user_races:_deactivate_in_child", [("carol", alice.pk), ("carol2", alice.pk)])
    assert answers == ["deactivated", "refused"]
    assert [e.after["is_active"] for e in ChangeLogEntry.objects.filter(object_type="accounts.user")] == [False]
