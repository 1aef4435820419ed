"""deploy/taizhang.env.example and deploy/taizhang.service (docs/operations.md) work together:
the environment sets only variables the settings read; systemd accepts the unit; and the
unit's own commands, run with that environment (its paths moved into a scratch folder, SQLite
for PostgreSQL), migrate, collect the static files, pass `check --deploy` and serve the site."""

import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.core.test_readme import _variables_read
from tests.core.test_serve import _free_port
from tests.production import clean_environ

ROOT = Path(__file__).resolve().parent.parent.parent
ENV_FILE = ROOT / "deploy" / "taizhang.env.example"
UNIT = ROOT / "deploy" / "taizhang.service"


def _environment(text: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def _unit(text: str) -> dict[str, list[str]]:
    """The unit's keys, each with all its values (ExecStartPre comes twice)."""
    keys: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key, []).append(value)
    return keys


def test_the_environment_sets_only_what_the_settings_read():
    env = _environment(ENV_FILE.read_text(encoding="utf-8"))
    assert set(env) <= _variables_read()
    assert env["TAIZHANG_DEBUG"] == "0" and "TAIZHANG_SECRET_KEY_FILE" in env and "TAIZHANG_CHAIN_KEY_FILE" in env


def test_the_unit_reads_that_environment_and_writes_only_the_data_folder():
    unit = _unit(UNIT.read_text(encoding="utf-8"))
    env = _environment(ENV_FILE.read_text(encoding="utf-8"))
    assert unit["EnvironmentFile"] == ["/etc/taizhang/env"]
    assert unit["ReadWritePaths"] == [env["TAIZHANG_DATA_DIR"]]
    assert unit["ProtectSystem"] == ["strict"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_accepts_the_unit(tmp_path):
    unit = tmp_path / "taizhang.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/srv/taizhang", str(ROOT)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.strip()) == (0, "")


def _get(port, path, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _server_files(tmp_path, port=8000) -> str:
    """The example environment with its paths in a scratch folder, the key files made, SQLite kept."""
    etc, data = tmp_path / "etc", tmp_path / "data"
    etc.mkdir()
    data.mkdir()
    (etc / "secret_key").write_text(secrets.token_urlsafe(50))
    (etc / "chain.key").write_text(secrets.token_hex(32))
    text = ENV_FILE.read_text(encoding="utf-8").replace("/etc/taizhang", str(etc))
    text = text.replace("/var/lib/taizhang", str(data)).replace("127.0.0.1:8000", "127.0.0.1:%d" % port)
    # "leave it out to keep SQLite"
    return re.sub(r"^TAIZHANG_DATABASE_URL=.*$", "", text, flags=re.M)


def test_taizhang_run_runs_a_command_with_the_servers_environment(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text(_server_files(tmp_path))
    runner = dict(clean_environ({}), TAIZHANG_ENV_FILE=str(env_file), TAIZHANG_HOME=str(ROOT),
                  TAIZHANG_USER=subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip())
    done = subprocess.run([str(ROOT / "deploy" / "taizhang-run"), ".venv/bin/python", "manage.py", "check",
                           "--deploy", "--fail-level", "WARNING"], env=runner, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    # Without the server's environment the same command is the development profile, which --deploy faults.
    bare = subprocess.run([".venv/bin/python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=clean_environ({}), capture_output=True, text=True, timeout=120)
    assert bare.returncode != 0
    unreadable = subprocess.run([str(ROOT / "deploy" / "taizhang-run"), "true"], capture_output=True, text=True,
                                env=dict(runner, TAIZHANG_ENV_FILE=str(tmp_path / "missing")))
    assert unreadable.returncode == 2 and "run it with sudo" in unreadable.stderr


def test_the_units_commands_with_that_environment_serve_the_site(tmp_path):
    data, port = tmp_path / "data", _free_port()
    env = clean_environ(_environment(_server_files(tmp_path, port)))
    unit = _unit(UNIT.read_text(encoding="utf-8").replace("/srv/taizhang", str(ROOT)))
    for command in unit["ExecStartPre"]:
        subprocess.run(shlex.split(command), cwd=unit["WorkingDirectory"][0], env=env, check=True, timeout=300)
    check = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", "check", "--deploy",
                            "--fail-level", "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert (data / "static" / "taizhang" / "site.css").is_file() and (data / "taizhang.sqlite3").is_file()
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen(shlex.split(unit["ExecStart"][0]), cwd=unit["WorkingDirectory"][0], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        host = env["TAIZHANG_ALLOWED_HOSTS"]
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(port, "/accounts/login/", {"Host": host, "X-Forwarded-Proto": "https"})
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("gunicorn did not start:\n" + log.read())
                time.sleep(0.3)
        assert status == 200 and b'name="username"' in body
        assert _get(port, "/accounts/login/", {"Host": host})[0] == 301  # plain HTTP is sent to HTTPS
        assert _get(port, "/accounts/login/", {"Host": "elsewhere.example"})[0] == 400  # ALLOWED_HOSTS
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()


def test_docs_show_the_examples_rather_than_copies_of_them():
    """The unit and the environment live in deploy/; the documents link to them."""
    for doc in ("deploy.md", "operations.md"):
        text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
        assert "../deploy/taizhang.service" in text and "../deploy/taizhang.env.example" in text
        assert not re.search(r"^ExecStart=", text, flags=re.M), doc
