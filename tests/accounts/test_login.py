"""Login: repeated failures lock the account for a while."""

from tests.conftest import PASSWORD


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_with_the_right_password(client, personas):
    assert _login(client, "alice", PASSWORD)["Location"] == "/"


def test_repeated_failures_lock_the_account(client, personas, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", "wrong").status_code == 429
    locked = _login(client, "alice", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account is not affected.
    assert _login(client, "bob", PASSWORD).status_code == 302
