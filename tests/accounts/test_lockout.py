"""Login lockout per account and address, and the HQ office unlocking an account.

Mallory guesses Lee's password from her own address; Lee, elsewhere, still logs in.
Carol (HQ office) sees Lee locked and unlocks him; nobody else may see that page.
"""

import pytest
from axes.models import AccessAttempt
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from taizhang.core.models import ChangeLogEntry
from tests.conftest import PASSWORD
from tests.production import apply, production_env

MALLORY, LEE = "203.0.113.9", "198.51.100.7"


def _login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def _lock(username, settings, **extra):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, username, "guess", **extra)
    assert _login(client, username, PASSWORD, **extra).status_code == 429


def test_failures_from_one_address_do_not_lock_the_account_out_from_another(personas, settings):
    _lock("lee", settings, REMOTE_ADDR=MALLORY)
    client = Client()
    assert _login(client, "lee", PASSWORD, REMOTE_ADDR=LEE).status_code == 302
    assert client.session["_auth_user_id"] == str(personas["lee"].pk)


def test_without_a_proxy_a_forged_forwarded_for_does_not_dodge_the_lock(personas, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "lee", "guess", REMOTE_ADDR=MALLORY, HTTP_X_FORWARDED_FOR="10.0.0.%d" % n)
    assert _login(client, "lee", PASSWORD, REMOTE_ADDR=MALLORY, HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429


def test_behind_a_proxy_the_address_comes_from_the_proxy_s_forwarded_for(personas, settings):
    apply(settings, production_env())
    proxy = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https",
             "HTTP_HOST": "taizhang.example.gov.cn"}
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        # Mallory writes an address of her own in front; the proxy appends hers.
        _login(client, "lee", "guess", HTTP_X_FORWARDED_FOR="%s, %s" % (LEE, MALLORY), **proxy)
    assert _login(client, "lee", PASSWORD, HTTP_X_FORWARDED_FOR=MALLORY, **proxy).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {MALLORY}
    assert _login(Client(), "lee", PASSWORD, HTTP_X_FORWARDED_FOR=LEE, **proxy).status_code == 302


def test_the_office_sees_the_locked_account_and_unlocks_it(client, personas, settings):
    _lock("lee", settings, REMOTE_ADDR=MALLORY)
    client.force_login(personas["carol"])
    page = client.get("/accounts/locked/")
    assert page.status_code == 200
    assert [a.username for a in page.context["accounts"]] == ["lee"]
    assert MALLORY in page.content.decode()

    response = client.post("/accounts/unlock/%d/" % personas["lee"].pk)
    assert response.status_code == 302 and response["Location"] == "/accounts/locked/"
    assert not AccessAttempt.objects.filter(username="lee").exists()
    entry = ChangeLogEntry.objects.get(object_type="accounts.lockout")
    assert (entry.object_id, entry.action, entry.actor_id) == (str(personas["lee"].pk), "delete", personas["carol"].pk)
    assert entry.before["addresses"] == [MALLORY]
    assert _login(Client(), "lee", PASSWORD, REMOTE_ADDR=MALLORY).status_code == 302


def test_unlocking_an_account_that_is_not_locked_changes_nothing(client, personas):
    client.force_login(personas["carol"])
    response = client.post("/accounts/unlock/%d/" % personas["lee"].pk, follow=True)
    assert "not locked" in response.content.decode() or "未被锁定" in response.content.decode()
    assert not ChangeLogEntry.objects.filter(object_type="accounts.lockout").exists()


def test_the_office_cannot_unlock_an_account_outside_its_campaigns(client, personas, settings, django_user_model):
    django_user_model.objects.create_user("stranger", password=PASSWORD)
    _lock("stranger", settings, REMOTE_ADDR=MALLORY)
    client.force_login(personas["carol"])
    assert client.get("/accounts/locked/").context["accounts"] == []
    stranger = django_user_model.objects.get(username="stranger")
    assert client.post("/accounts/unlock/%d/" % stranger.pk).status_code == 404
    assert AccessAttempt.objects.filter(username="stranger").exists()


@pytest.mark.parametrize("persona", ["alice", "dan", "erin", "lee", "gina", "jin", "olive"])
def test_only_the_office_reaches_the_locked_accounts(client, personas, settings, persona):
    _lock("bob", settings, REMOTE_ADDR=MALLORY)
    client.force_login(personas[persona])
    assert client.get("/accounts/locked/").status_code == 403
    assert client.post("/accounts/unlock/%d/" % personas["bob"].pk).status_code == 403
    assert AccessAttempt.objects.filter(username="bob").exists()
    assert not ChangeLogEntry.objects.filter(object_type="accounts.lockout").exists()


def test_anonymous_visitors_are_sent_to_log_in(client, personas):
    assert client.get("/accounts/locked/")["Location"].startswith("/accounts/login/")
    assert client.post("/accounts/unlock/%d/" % personas["bob"].pk)["Location"].startswith("/accounts/login/")


def test_the_header_links_the_office_to_the_locked_accounts(client, personas):
    client.force_login(personas["carol"])
    assert 'href="/accounts/locked/"' in client.get("/ledger/").content.decode()
    client.force_login(personas["alice"])
    assert 'href="/accounts/locked/"' not in client.get("/ledger/").content.decode()


def test_the_locked_accounts_page_takes_the_same_queries_for_one_account_or_many(
        client, personas, settings, django_assert_max_num_queries):
    client.force_login(personas["carol"])
    _lock("lee", settings, REMOTE_ADDR=MALLORY)
    # A request empties the query log when it starts: empty it first, or the count is off.
    reset_queries()
    with CaptureQueriesContext(connection) as one:
        client.get("/accounts/locked/")
    queries = len(one)  # read now: it is a window on the log, which the next request empties
    for name in ("alice", "bob", "dan"):
        _lock(name, settings, REMOTE_ADDR=MALLORY)
    reset_queries()
    with django_assert_max_num_queries(queries):
        response = client.get("/accounts/locked/")
    assert len(response.context["accounts"]) == 4
