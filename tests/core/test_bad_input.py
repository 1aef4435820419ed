"""Input that once gave a server error gives 400 (with the reason) or 404, and changes nothing.

Each case came from an attack on the running app: a day past the calendar's end, an id
of digits that int() refuses, a search too big for SQLite's query limits, an encoded ".."
in a static path under DEBUG.
"""

import datetime
import io
import wsgiref.util

import pytest
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.utils import timezone

from taizhang.core.requests import SEARCH_MAX_CHARS, SEARCH_MAX_WORDS

MANY_WORDS = " ".join("词%d" % i for i in range(2000))


# Days

@pytest.mark.parametrize("url", ["/ledger/export.xlsx", "/ledger/street/GC/export.xlsx"])
@pytest.mark.parametrize("day", ["9999-12-31", "2015-13-01", "²⁰¹⁵-01-01", "x" * 5000])
def test_an_as_of_day_that_is_not_a_day_to_export_is_400(client, targets, personas, url, day):
    client.force_login(personas["carol"])
    response = client.get(url, {"as_of": day})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "YYYY-MM-DD" in response.content.decode() or "9999-12-31" in response.content.decode()


def test_an_as_of_day_after_today_is_400_and_today_is_fine(client, targets, personas):
    client.force_login(personas["carol"])
    today = timezone.localdate()
    assert client.get("/ledger/export.xlsx", {"as_of": (today + datetime.timedelta(days=1)).isoformat()}
                      ).status_code == 400
    assert client.get("/ledger/export.xlsx", {"as_of": today.isoformat()}).status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", datetime.date(9999, 12, 31), "someday"])
def test_export_ledger_command_refuses_a_day_it_cannot_export(targets, tmp_path, day):
    output = tmp_path / "out.xlsx"
    with pytest.raises(CommandError, match="9999-12-31|someday"):
        call_command("export_ledger", as_of=day, output=output, stdout=io.StringIO())
    assert not output.exists()


def test_export_ledger_command_line_refuses_a_day_it_cannot_export(targets, tmp_path):
    # As typed on the command line (a string through the parser), not only through call_command.
    with pytest.raises(CommandError, match="9999-12-31"):
        call_command("export_ledger", "--as-of", "9999-12-31", "-o", str(tmp_path / "x.xlsx"), stdout=io.StringIO())


def test_the_inspections_page_takes_any_day(client, targets, personas):
    client.force_login(personas["carol"])
    for day in ("9999-12-31", "0001-01-01", "²⁰¹⁶-01-01"):
        assert client.get("/work/inspections/", {"date": day}).status_code == 200


# Ids

@pytest.mark.parametrize("value", ["²", "١", "12²", "99999999999999999999999", "", "-1", " 1"])
def test_a_campaign_id_that_is_not_an_id_is_400_and_changes_nothing(client, targets, personas, value):
    client.force_login(personas["carol"])
    response = client.post("/campaign/", {"campaign": value})
    assert response.status_code == 400
    assert "campaign_id" not in client.session
    assert client.get("/").status_code == 200


def test_a_campaign_id_chooses_the_campaign(client, campaign, targets, personas):
    client.force_login(personas["carol"])
    assert client.post("/campaign/", {"campaign": str(campaign.pk)}).status_code == 302
    assert client.session["campaign_id"] == campaign.pk


@pytest.mark.parametrize("url", [
    "/ledger/targets/99999999999999999999999/", "/work/targets/99999999999999999999999/",
    "/work/policies/99999999999999999999999/", "/work/plans/99999999999999999999999/edit/",
    "/ledger/street/GC%00/", "/ledger/street/GC%00/export.xlsx", "/ledger/nothing/GC/",
])
def test_an_id_or_code_out_of_range_is_404(client, targets, personas, url):
    client.force_login(personas["carol"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "1e400", "²", "NaN"])
def test_odd_page_numbers_give_a_page(client, targets, personas, page):
    client.force_login(personas["carol"])
    assert client.get("/ledger/", {"page": page}).status_code == 200
    assert client.get("/work/legal/", {"page": page}).status_code == 200


@pytest.mark.parametrize("params", [{"sort": "password"}, {"sort": "²"}, {"street": "²"},
                                    {"street": "99999999999999999999999"}, {"target_type": "1e400"},
                                    {"state": "x" * 1000}])
def test_odd_sort_keys_and_filter_values_show_nothing_with_a_400(client, targets, personas, params):
    client.force_login(personas["carol"])
    response = client.get("/ledger/", params)
    assert response.status_code == 400
    assert list(response.context["page"]) == []
    assert client.get("/ledger/export.xlsx", params).status_code == 400


# Searches

@pytest.mark.parametrize("q", [MANY_WORDS, "x" * 100_000])
def test_a_policy_search_too_big_for_the_database_is_400_with_the_reason(client, targets, personas, q):
    client.force_login(personas["carol"])
    response = client.get("/work/policies/", {"q": q})
    assert response.status_code == 400
    assert str(SEARCH_MAX_WORDS if " " in q else SEARCH_MAX_CHARS) in response.content.decode()
    partial = client.get("/work/policies/", {"q": q}, headers={"HX-Request": "true"})
    assert partial.status_code == 400 and b"<html" not in partial.content and b'id="results"' in partial.content


def test_a_policy_search_of_many_words_within_the_cap_still_searches(client, targets, personas, campaign):
    client.force_login(personas["carol"])
    words = " ".join(["法"] * SEARCH_MAX_WORDS)
    assert client.get("/work/policies/", {"q": words}).status_code == 200


def test_a_policy_tag_too_long_is_400(client, targets, personas):
    client.force_login(personas["carol"])
    assert client.get("/work/policies/", {"tag": "x" * 100_000}).status_code == 400


@pytest.mark.parametrize(("url", "params"), [
    ("/ledger/", {"q": "古城\x00"}), ("/ledger/export.xlsx", {"q": "古城\x00"}),
    ("/work/policies/", {"q": "合同\x00"}), ("/work/policies/", {"tag": "拆违\x00"}),
])
def test_a_nul_in_a_search_is_400_on_every_database(client, targets, personas, url, params):
    # PostgreSQL refuses NUL in a text query (a server error there); SQLite took it.
    client.force_login(personas["carol"])
    assert client.get(url, params).status_code == 400


@pytest.mark.parametrize("q", [MANY_WORDS, "x" * 100_000])
@pytest.mark.parametrize("url", ["/ledger/", "/ledger/street/GC/", "/ledger/export.xlsx"])
def test_a_ledger_search_too_big_for_the_database_is_400(client, targets, personas, q, url):
    client.force_login(personas["carol"])
    response = client.get(url, {"q": q})
    assert response.status_code == 400
    assert str(SEARCH_MAX_WORDS if " " in q else SEARCH_MAX_CHARS) in response.content.decode()


def test_a_ledger_search_refused_in_htmx_shows_its_reason_in_place(client, targets, personas):
    client.force_login(personas["carol"])
    partial = client.get("/ledger/", {"q": MANY_WORDS}, headers={"HX-Request": "true"})
    assert partial.status_code == 400
    assert b"<html" not in partial.content and b'id="results"' in partial.content and b'class="bad"' in partial.content


# Static files under DEBUG (`make run`: runserver)

def _runserver_get(path):
    """GET through the WSGI handler `manage.py runserver` serves, with its default options."""
    command = load_command_class(get_commands()["runserver"], "runserver")
    options = vars(command.create_parser("manage.py", "runserver").parse_args([]))
    handler = command.get_handler(**options)
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "127.0.0.1"}
    wsgiref.util.setup_testing_defaults(environ)
    status = []
    body = b"".join(handler(environ, lambda s, _headers, _exc=None: status.append(s)))
    return int(status[0].split()[0]), body


ESCAPES = ["/static/../../taizhang/settings.py", "/static/..%2f..%2ftaizhang%2fsettings.py",
           "/static/%2e%2e/%2e%2e/taizhang/settings.py", "/static/vendor/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
           "/static/vendor/htmx/%00.js"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ESCAPES)
def test_an_encoded_dot_dot_in_a_static_path_is_404_under_runserver(settings, path):
    settings.DEBUG = True
    status, body = _runserver_get(path)
    assert status == 404
    assert b"SECRET_KEY" not in body


@pytest.mark.django_db
def test_runserver_still_serves_the_front_end_files(settings):
    settings.DEBUG = True
    status, body = _runserver_get("/static/vendor/htmx/htmx.min.js")
    assert status == 200 and b"htmx" in body


@pytest.mark.parametrize("path", ESCAPES)
def test_an_encoded_dot_dot_in_a_static_path_is_404_under_debug(client, settings, db, path):
    settings.DEBUG = True
    assert client.get(path).status_code == 404


def test_djangos_own_400_gets_the_page_without_its_internal_message(client, db):
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert b"evil.example" not in response.content and b"ALLOWED_HOSTS" not in response.content
