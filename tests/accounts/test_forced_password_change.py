"""A deactivated account cannot log in; a reset (or a temporary password) asks for a new password first."""

import pytest
from django.contrib.auth import get_user_model

from taizhang.accounts.models import Membership
from taizhang.accounts.services import password_reset, user_create, user_deactivate
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.services import target_update
from tests.account_state import accounts_state
from tests.conftest import PASSWORD

User = get_user_model()
TEMPORARY = "temporary pass 1"
OWN = "my very own secret 7"


def _login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra},
                       HTTP_ACCEPT_LANGUAGE="en")


def test_a_deactivated_account_cannot_log_in(client, personas):
    user_deactivate(actor=personas["carol"], user_id=personas["alice"].pk)
    response = _login(client, "alice", PASSWORD)
    assert response.status_code == 200 and "Wrong user name or password." in response.text
    assert "_auth_user_id" not in client.session


def test_an_open_session_ends_at_its_next_request_once_deactivated(client, personas):
    client.force_login(personas["alice"])
    assert client.get("/ledger/").status_code == 200
    user_deactivate(actor=personas["carol"], user_id=personas["alice"].pk)
    response = client.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_deactivated_account_keeps_its_history(client, personas, targets):
    alice = personas["alice"]
    target_update(target=targets["GC-0001"], actor=alice, changes={"community": "新社区"})
    user_deactivate(actor=personas["carol"], user_id=alice.pk)
    assert User.objects.filter(pk=alice.pk).exists() and Membership.objects.filter(user=alice).exists()
    assert ChangeLogEntry.objects.filter(actor=alice, object_type="ledger.target").count() == 1
    client.force_login(personas["carol"])
    page = client.get(targets["GC-0001"].get_absolute_url())
    assert "alice" in page.text  # the history still names who made the change


def test_after_a_reset_the_first_login_asks_for_a_new_password_before_anything_else(client, personas):
    password_reset(actor=personas["carol"], user_id=personas["alice"].pk, password=TEMPORARY)
    response = _login(client, "alice", TEMPORARY, next="/ledger/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/?next=%2Fledger%2F"
    for url in ("/", "/ledger/", "/work/policies/", "/ledger/reconcile/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/password/"), url
    response = client.get("/ledger/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/accounts/password/"
    page = client.get("/accounts/password/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and 'id="forced"' in page.text
    # Writes are refused too, before any view runs.
    assert client.post("/ledger/import/").status_code == 302
    response = client.post("/accounts/password/", {"old_password": TEMPORARY, "new_password1": OWN,
                                                   "new_password2": OWN, "next": "/ledger/"})
    assert response.status_code == 302 and response["Location"] == "/ledger/"
    assert client.get("/ledger/").status_code == 200  # this session stays logged in, free to go on
    alice = User.objects.get(username="alice")
    assert alice.check_password(OWN) and alice.profile.must_change_password is False
    client.logout()
    assert _login(client, "alice", OWN)["Location"] == "/"  # no second ask


def test_an_account_made_with_a_temporary_password_sets_its_own_first(client, personas, units):
    user_create(actor=personas["carol"], username="wangfang", name="王芳", password=TEMPORARY,
                memberships=[(units["GC"], Membership.Role.STREET)])
    assert _login(client, "wangfang", TEMPORARY)["Location"].startswith("/accounts/password/")
    assert client.get("/ledger/")["Location"].startswith("/accounts/password/")


def test_a_new_password_follows_the_validators(client, personas):
    password_reset(actor=personas["carol"], user_id=personas["alice"].pk, password=TEMPORARY)
    _login(client, "alice", TEMPORARY)
    before = accounts_state()
    for new in ("short", "alice2015", "password123", "83746529105"):
        response = client.post("/accounts/password/", {"old_password": TEMPORARY, "new_password1": new,
                                                       "new_password2": new}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, new
    assert accounts_state() == before
    assert client.get("/ledger/").status_code == 302  # still asked


def test_a_reset_ends_the_sessions_the_account_has_open(client, personas):
    client.force_login(personas["alice"])
    password_reset(actor=personas["carol"], user_id=personas["alice"].pk, password=TEMPORARY)
    response = client.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_anyone_may_change_their_own_password(client, personas):
    client.force_login(personas["dan"])
    assert client.get("/accounts/password/").status_code == 200
    response = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": OWN,
                                                   "new_password2": OWN}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert User.objects.get(username="dan").check_password(OWN)
    entry = ChangeLogEntry.objects.latest("id")
    assert (entry.object_type, entry.actor_name, entry.reason) == ("accounts.user", "dan", "password changed")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_the_password_page_sends_nowhere_else(client, personas, next_url):
    client.force_login(personas["dan"])
    response = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": OWN,
                                                   "new_password2": OWN, "next": next_url})
    assert response["Location"] == "/"
