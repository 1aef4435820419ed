"""`may_q`: the access rule as a filter for one action, for lists of work waiting for someone."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, may_q
from taizhang.ledger.models import Target
from taizhang.remediation.models import Petition
from tests.conftest import group_member


def test_the_filter_for_an_action_is_may_asked_of_every_target(targets, personas, units):
    """One rule, two forms: for every user and action, the filter lets in exactly the targets
    on which `may` says yes (roles and working-group duties alike)."""
    superuser = get_user_model().objects.create_superuser("root", password="x")
    users = dict(personas, petitions=group_member(units, "G07"), superuser=superuser)
    rows = list(Target.objects.all())
    for name, user in users.items():
        for action in Action:
            allowed = set(Target.objects.filter(may_q(user, action)).values_list("code", flat=True))
            assert allowed == {t.code for t in rows if may(user, t, action)}, (name, action)


def test_the_filter_reaches_records_through_their_target(targets, personas, units):
    day = datetime.date(2016, 1, 5)
    for code in ("GC-0001", "LG-0001"):
        Petition.objects.create(target=targets[code], petitioner="王五", channel="visit", received_on=day, content="x")
    for name, codes in (("bob", ["LG-0001"]), ("alice", ["GC-0001"]), ("carol", ["GC-0001", "LG-0001"]),
                        ("jin", []), ("gina", [])):
        found = Petition.objects.filter(may_q(personas[name], Action.PETITION_HANDLE, "target__"))
        assert sorted(found.values_list("target__code", flat=True)) == codes, name
    petitions_group = group_member(units, "G07")
    assert Petition.objects.filter(may_q(petitions_group, Action.PETITION_HANDLE, "target__")).count() == 2


@pytest.mark.parametrize("persona", ["carol", "alice"])
def test_a_deactivated_user_may_nothing_through_the_filter(targets, personas, persona):
    user = personas[persona]
    user.is_active = False
    assert not Target.objects.filter(may_q(user, Action.TARGET_EDIT)).exists()
