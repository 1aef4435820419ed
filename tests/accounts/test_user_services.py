"""Managing accounts through the services: each write in the change log, each refusal changing nothing."""

import pytest
from django.contrib.auth import get_user_model

from taizhang.accounts.models import Membership
from taizhang.accounts.services import (
    AccountError,
    membership_add,
    membership_remove,
    password_change,
    password_reset,
    temporary_password,
    user_create,
    user_deactivate,
    user_reactivate,
    user_update,
)
from taizhang.core.changelog import Break, changelog_verify
from taizhang.core.models import ChangeLogEntry
from tests.account_state import accounts_state

pytestmark = pytest.mark.usefixtures("english")
User = get_user_model()
Role = Membership.Role
NEW_PASSWORD = "a brand new secret 42"


def entries(object_type):
    return list(ChangeLogEntry.objects.filter(object_type=object_type).order_by("id"))


def test_the_office_creates_an_account_placed_in_a_unit(personas, units):
    user = user_create(actor=personas["carol"], username="zhangwei", name="张 伟", phone="138 0013 8000",
                       password="temporary pass 1", memberships=[(units["GC"], Role.STREET)])
    assert user.first_name == "张 伟" and user.check_password("temporary pass 1") and user.is_active
    assert user.profile.phone == "13800138000" and user.profile.must_change_password is True
    assert list(user.memberships.values_list("unit__code", "role")) == [("GC", Role.STREET)]
    account, membership = ChangeLogEntry.objects.order_by("-id")[1], ChangeLogEntry.objects.order_by("-id")[0]
    assert (account.object_type, account.action, account.actor_name) == ("accounts.user", "create", "carol")
    assert account.after == {"username": "zhangwei", "first_name": "张 伟", "phone": "13800138000",
                             "is_active": True, "must_change_password": True,
                             "password_changed_at": user.profile.password_changed_at.isoformat()}
    assert membership.object_type == "accounts.membership"
    assert membership.after == {"user": user.pk, "unit": "古城街道", "role": "street", "is_head": False}
    assert not any(isinstance(item, Break) for item in changelog_verify())


def test_the_change_log_never_holds_a_password(personas, units):
    user = user_create(actor=personas["carol"], username="li", name="李娜", password="temporary pass 1",
                       memberships=[(units["LG"], Role.STREET)])
    password_reset(actor=personas["carol"], user_id=user.pk, password="another temporary 2")
    text = " ".join(str((e.before, e.after, e.reason, e.object_repr)) for e in ChangeLogEntry.objects.all())
    stored_hash = User.objects.get(pk=user.pk).password
    assert "temporary pass" not in text and "another temporary" not in text
    assert stored_hash.split("$")[0] + "$" not in text and stored_hash.split("$")[-1] not in text


@pytest.mark.parametrize(("fields", "message"), [
    ({"username": "alice"}, "User name: “alice” is already taken."),
    ({"username": "ALICE"}, "User name: “ALICE” is already taken."),
    ({"username": "bad name!"}, "User name: Enter a valid username."),
    ({"name": "  "}, "Full name: give the person's name."),
    ({"password": "short"}, "Password: This password is too short."),
    ({"password": "83746529105"}, "Password: This password is entirely numeric."),
    ({"password": "password123"}, "Password: This password is too common."),
    ({"phone": "call me"}, "Phone: “callme” is not a phone number"),
])
def test_a_refused_account_says_why_and_changes_nothing(personas, units, fields, message):
    before = accounts_state()
    arguments = {"username": "wang", "name": "王芳", "password": "temporary pass 1",
                 "memberships": [(units["GC"], Role.STREET)]} | fields
    with pytest.raises(AccountError) as refused:
        user_create(actor=personas["carol"], **arguments)
    assert str(refused.value).startswith(message)
    assert accounts_state() == before


def test_a_password_like_the_user_name_is_refused(personas, units):
    with pytest.raises(AccountError, match="too similar to the username"):
        user_create(actor=personas["carol"], username="wangfang2015", name="王芳", password="wangfang2015",
                    memberships=[(units["GC"], Role.STREET)])


@pytest.mark.parametrize("persona", ["alice", "bob", "dan", "erin", "lee", "gina", "jin", "olive"])
def test_only_the_office_creates_accounts(personas, units, persona):
    before = accounts_state()
    with pytest.raises(AccountError):
        user_create(actor=personas[persona], username="wang", name="王芳", password="temporary pass 1",
                    memberships=[(units["GC"], Role.STREET)])
    assert accounts_state() == before


def test_a_street_role_outside_a_street_is_refused(personas, units):
    before = accounts_state()
    with pytest.raises(AccountError, match="would see nothing"):
        user_create(actor=personas["carol"], username="wang", name="王芳", password="temporary pass 1",
                    memberships=[(units["JT"], Role.STREET)])
    assert accounts_state() == before


def test_edit_logs_the_fields_that_changed(personas):
    alice = personas["alice"]
    user_update(actor=personas["carol"], user_id=alice.pk, name="艾丽丝", phone="010-68880000")
    entry = ChangeLogEntry.objects.latest("id")
    assert entry.changed_fields() == [("first_name", "", "艾丽丝"), ("phone", "", "010-68880000")]
    assert entry.reason == "account edited" and entry.object_id == str(alice.pk)
    count = ChangeLogEntry.objects.count()
    user_update(actor=personas["carol"], user_id=alice.pk, name="艾丽丝", phone="010-68880000")
    assert ChangeLogEntry.objects.count() == count  # nothing changed, nothing logged


def test_deactivate_and_reactivate(personas):
    alice, carol = personas["alice"], personas["carol"]
    user_deactivate(actor=carol, user_id=alice.pk)
    assert User.objects.get(pk=alice.pk).is_active is False
    assert Membership.objects.filter(user=alice).exists()  # kept, for a reactivation and the history
    with pytest.raises(AccountError, match="already deactivated"):
        user_deactivate(actor=carol, user_id=alice.pk)
    user_reactivate(actor=carol, user_id=alice.pk)
    assert User.objects.get(pk=alice.pk).is_active is True
    log = entries("accounts.user")
    assert [(e.before["is_active"], e.after["is_active"], e.reason) for e in log] == [
        (True, False, "account deactivated"), (False, True, "account reactivated")]


def test_the_office_cannot_deactivate_itself(personas):
    before = accounts_state()
    with pytest.raises(AccountError, match="your own account"):
        user_deactivate(actor=personas["carol"], user_id=personas["carol"].pk)
    assert accounts_state() == before


def test_a_reset_forces_a_new_password_and_the_owner_sets_one(personas):
    alice = personas["alice"]
    password_reset(actor=personas["carol"], user_id=alice.pk, password="temporary pass 1")
    alice = User.objects.get(pk=alice.pk)
    assert alice.check_password("temporary pass 1") and alice.profile.must_change_password is True
    reset = ChangeLogEntry.objects.latest("id")
    assert (reset.reason, reset.actor_name, reset.after["must_change_password"]) == ("password reset", "carol", True)
    password_change(user=alice, password=NEW_PASSWORD)
    alice = User.objects.get(pk=alice.pk)
    assert alice.check_password(NEW_PASSWORD) and alice.profile.must_change_password is False
    changed = ChangeLogEntry.objects.latest("id")
    assert (changed.reason, changed.actor_name) == ("password changed", "alice")
    assert [f for f, _b, _a in changed.changed_fields()] == ["must_change_password", "password_changed_at"]


def test_a_reset_password_follows_the_validators(personas):
    before = accounts_state()
    with pytest.raises(AccountError, match="too short"):
        password_reset(actor=personas["carol"], user_id=personas["alice"].pk, password="abc")
    assert accounts_state() == before


def test_memberships_added_and_removed_are_logged(personas, units):
    alice, carol = personas["alice"], personas["carol"]
    added = membership_add(actor=carol, user_id=alice.pk, unit=units["LG"], role=Role.LIAISON)
    entry = ChangeLogEntry.objects.latest("id")
    assert (entry.object_type, entry.action, entry.object_id) == ("accounts.membership", "create", str(added.pk))
    assert entry.after == {"user": alice.pk, "unit": "鲁谷街道", "role": "liaison", "is_head": False}
    with pytest.raises(AccountError, match="already a liaison leader"):
        membership_add(actor=carol, user_id=alice.pk, unit=units["LG"], role=Role.LIAISON)
    membership_remove(actor=carol, membership_id=added.pk)
    entry = ChangeLogEntry.objects.latest("id")
    assert (entry.action, entry.before, entry.after) == (
        "delete", {"user": alice.pk, "unit": "鲁谷街道", "role": "liaison", "is_head": False}, None)
    assert not Membership.objects.filter(pk=added.pk).exists()


def test_the_office_cannot_take_away_its_own_right_to_manage(personas):
    carol = personas["carol"]
    before = accounts_state()
    with pytest.raises(AccountError, match="your own right"):
        membership_remove(actor=carol, membership_id=carol.memberships.get().pk)
    assert accounts_state() == before


def test_an_account_also_in_another_campaign_is_not_the_office_s_to_manage(personas, units, campaign):
    """Resetting the password of someone in another campaign's office would open that campaign."""
    from taizhang.campaigns.models import Campaign, OrgUnit

    other = Campaign.objects.create(slug="other", name="另一个专项行动", district="石景山区",
                                    starts_on=campaign.starts_on, ends_on=campaign.ends_on)
    office = OrgUnit.objects.create(campaign=other, kind=OrgUnit.Kind.OFFICE, code="OFFICE", name="另一个办公室")
    Membership.objects.create(user=personas["alice"], unit=office, role=Role.OFFICE)
    superuser = User.objects.create_superuser("root", password="root password 9")
    before = accounts_state()
    for user in (personas["alice"], superuser):
        for refused in (lambda u: password_reset(actor=personas["carol"], user_id=u.pk, password="temporary pass 1"),
                        lambda u: user_deactivate(actor=personas["carol"], user_id=u.pk),
                        lambda u: user_update(actor=personas["carol"], user_id=u.pk, name="x")):
            with pytest.raises(AccountError, match="not one you may manage"):
                refused(user)
    with pytest.raises(AccountError, match="not a unit you may place"):
        membership_add(actor=personas["carol"], user_id=personas["bob"].pk, unit=office, role=Role.OFFICE)
    assert accounts_state() == before


def test_temporary_passwords_pass_the_validators():
    from django.contrib.auth.password_validation import validate_password

    for _i in range(200):
        validate_password(temporary_password(), User(username="wang", first_name="王芳"))
