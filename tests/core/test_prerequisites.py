"""`bin/prerequisites`: `make run` and `make test` name every missing system tool, with the one
apt-get line that installs them, before installing anything.

Each test gives the script (a copy, away from the checkout's .venv) a PATH holding only the
tools it names, so what is "missing" is decided by the test, not by this machine.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "bin" / "prerequisites"


def _tool(folder: Path, name: str, body: str = "exit 0") -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n%s\n" % body)
    path.chmod(0o755)
    return path


@pytest.fixture
def system(tmp_path):
    """A checkout without .venv, and a PATH of bare essentials; `add` puts a tool on it."""
    checkout, path = tmp_path / "checkout", tmp_path / "tools"
    (checkout / "bin").mkdir(parents=True)
    path.mkdir()
    shutil.copy(SCRIPT, checkout / "bin" / "prerequisites")
    shutil.copy(ROOT / "Makefile", checkout / "Makefile")
    for name in ("bash", "sh", "dirname", "make", "env"):
        (path / name).symlink_to(shutil.which(name))

    class System:
        root, tools, chromium = checkout, path, tmp_path / "chromium"
        python = sys.executable

        def add(self, name, body="exit 0"):
            return _tool(path, name, body)

        def run(self, *args, chromium=True):
            if chromium:
                _tool(tmp_path, "chromium")
            env = {"PATH": str(path), "HOME": str(tmp_path), "TAIZHANG_CHROMIUM": str(self.chromium)}
            return subprocess.run([str(checkout / "bin" / "prerequisites"), *args], env=env,
                                  capture_output=True, text=True, timeout=60)

    return System()


def test_everything_there_passes_silently(system):
    system.add("npm"), system.add("msgfmt")
    result = system.run("test", system.python)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_bare_system_gets_every_missing_tool_and_one_install_line(system):
    result = system.run("test", system.python, chromium=False)
    assert result.returncode == 1
    assert "npm" in result.stderr and "msgfmt" in result.stderr and "chromium" in result.stderr
    assert "  sudo apt-get install -y npm gettext chromium\n" in result.stderr


def test_running_needs_no_browser(system):
    system.add("npm"), system.add("msgfmt")
    assert system.run("run", system.python, chromium=False).returncode == 0
    result = system.run("test", system.python, chromium=False)
    assert result.returncode == 1
    assert "sudo apt-get install -y chromium\n" in result.stderr
    assert "-m 'not browser'" in result.stderr  # how to do without it


def test_an_old_python_is_named_with_its_version(system):
    system.add("npm"), system.add("msgfmt")
    old = system.add("python3.11", 'if [ "$1" = -c ] && [ "${2#*print}" != "$2" ]; then echo 3.11; fi; exit 1')
    result = system.run("run", str(old))
    assert result.returncode == 1
    assert "Python 3.12 or newer (%s is 3.11)" % old in result.stderr
    assert "sudo apt-get install -y python3 python3-venv" in result.stderr
    assert "PYTHON=/path/to/python3.12 make run" in result.stderr


def test_no_python_at_all(system):
    system.add("npm"), system.add("msgfmt")
    result = system.run("run", "")
    assert result.returncode == 1
    assert "Python 3.12 or newer (none found" in result.stderr


def test_a_python_without_its_venv_module(system):
    system.add("npm"), system.add("msgfmt")
    # Answers the version check, fails the `import ensurepip, venv` one, as Debian's python3.12 does.
    bare = system.add("python3.12", 'case "$2" in *ensurepip*) exit 1;; *print*) echo 3.12;; esac; exit 0')
    result = system.run("run", str(bare))
    assert result.returncode == 1
    assert "sudo apt-get install -y python3.12-venv\n" in result.stderr


def test_make_run_stops_at_the_check_before_installing_anything(system):
    result = subprocess.run(["make", "run", "PYTHON=%s" % sys.executable], cwd=system.root,
                            env={"PATH": str(system.tools), "HOME": str(system.root)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "make run needs what this system lacks" in result.stderr
    assert "sudo apt-get install -y npm gettext\n" in result.stderr
    assert not (system.root / ".venv").exists()


@pytest.mark.parametrize(("args", "mode"), [
    (["test"], "test"),
    (["test", "PYTEST_ARGS=-m 'not browser'"], "run"),  # the browser tests skipped: no chromium needed
    (["run"], "run"),
    (["serve"], "run"),
])
def test_make_checks_first(args, mode):
    # Not what an outer `make test` passes down (MAKEFLAGS carries its PYTEST_ARGS).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_ARGS")}
    result = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    first = result.stdout.splitlines()[0]
    assert first.startswith("bin/prerequisites %s " % mode)
