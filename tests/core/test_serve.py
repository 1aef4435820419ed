"""`make serve`: gunicorn with the production profile answers pages and static files.

It runs the real command in its own process group, on a free port, with a data folder
(and so a SQLite database and collected static files) of its own, then stops it.
"""

import http.client
import os
import signal
import socket
import subprocess
import time

import pytest

from tests.production import SETTINGS_FILE, clean_environ, production_env

ROOT = SETTINGS_FILE.parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port, path, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    port, data = _free_port(), tmp_path_factory.mktemp("serve")
    env = clean_environ(production_env(
        TAIZHANG_DATA_DIR=str(data), TAIZHANG_ALLOWED_HOSTS="127.0.0.1",
        TAIZHANG_BIND="127.0.0.1:%d" % port, TAIZHANG_WORKERS="2"))
    log = open(data / "serve.log", "w+")
    process = subprocess.Popen(["make", "-s", "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(port, "/", {})
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("make serve did not start:\n" + log.read())
                time.sleep(0.3)
        yield port, data
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}


def test_the_login_page_is_served_with_its_policy(served):
    port, data = served
    status, headers, body = _get(port, "/accounts/login/", HTTPS)
    assert status == 200
    assert 'name="username"' in body.decode()
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "Secure" in headers["Set-Cookie"]
    assert (data / "taizhang.sqlite3").exists()


def test_a_static_file_comes_from_the_collected_files(served):
    port, data = served
    status, headers, body = _get(port, "/static/taizhang/site.css", HTTPS)
    assert status == 200
    assert body == (data / "static" / "taizhang" / "site.css").read_bytes()
    assert "max-age" in headers["Cache-Control"]


def test_plain_http_is_sent_to_https(served):
    port, _data = served
    status, headers, _body = _get(port, "/accounts/login/", {})
    assert status == 301 and headers["Location"] == "https://127.0.0.1/accounts/login/"


def test_serve_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(TAIZHANG_DATA_DIR=str(tmp_path), TAIZHANG_BIND="127.0.0.1:%d" % _free_port())
    del env["TAIZHANG_SECRET_KEY"]
    done = subprocess.run(["make", "-s", "serve"], cwd=ROOT, env=clean_environ(env), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "set TAIZHANG_SECRET_KEY" in done.stderr
