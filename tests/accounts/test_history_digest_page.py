"""The HQ office prints the change log's digest (日终摘要); no one else sees it."""

import pytest
from django.core.management import call_command

from taizhang.core.changelog import Digest


def test_the_office_prints_a_digest_that_verify_history_accepts(client, personas, targets, capsys):
    client.force_login(personas["carol"])
    response = client.get("/accounts/history-digest/")
    assert response.status_code == 200
    digest = Digest.parse(response.content.decode())
    call_command("verify_history", "--against", str(digest))
    assert "holds the digest" in capsys.readouterr().out


@pytest.mark.parametrize("persona", ["alice", "dan", "erin", "lee", "gina", "jin", "olive"])
def test_only_the_office_reaches_the_digest(client, personas, persona):
    client.force_login(personas[persona])
    response = client.get("/accounts/history-digest/")
    assert response.status_code == 403
    assert b"taizhang-digest" not in response.content
    assert 'href="/accounts/history-digest/"' not in client.get("/ledger/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in_for_the_digest(client):
    assert client.get("/accounts/history-digest/")["Location"].startswith("/accounts/login/")


def test_the_header_links_the_office_to_the_digest(client, personas):
    client.force_login(personas["carol"])
    assert 'href="/accounts/history-digest/"' in client.get("/ledger/").content.decode()
