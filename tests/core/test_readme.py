"""The README's examples, run: every ```sh block that calls manage.py runs, as written, in a
scratch folder against a fresh demo database (made as `make run` makes it), in README order;
each must succeed and give something (no export of 0 targets, no import of 0 rows). The
`make` lines are run elsewhere (tests/core/test_serve.py, test_prerequisites.py, CI).

Inline synopses (`manage.py import_ledger FILE [--dry-run] …`) name real commands and real
options, all of them; the configuration table lists every TAIZHANG_* variable the settings
read, and nothing else."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from tests.production import clean_environ

ROOT = Path(__file__).resolve().parent.parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Options every Django command has; a synopsis need not list them.
DJANGO_OPTIONS = {"--version", "--verbosity", "--settings", "--pythonpath", "--traceback", "--no-color",
                  "--force-color", "--skip-checks", "--help"}


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


EXAMPLES = [block for block in sh_blocks(README) if "manage.py" in block]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A scratch folder laid out like the checkout, with a demo database of its own."""
    work = tmp_path_factory.mktemp("readme")
    for name in (".venv", "manage.py", "presets"):
        (work / name).symlink_to(ROOT / name)
    (work / "var").mkdir()
    # No TAIZHANG_* variable from the test run: the examples never touch its database.
    env = clean_environ({"TAIZHANG_DATA_DIR": str(work / "var")})
    for command in (["migrate", "--no-input", "-v", "0"], ["setup_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=work, env=env, check=True,
                       capture_output=True, timeout=300)
    return work, env


def test_the_readme_has_examples_to_run():
    assert len(EXAMPLES) >= 4
    commands = {m for block in EXAMPLES for m in re.findall(r"manage\.py (\w+)", block)}
    assert {"export_ledger", "import_ledger", "verify_history", "load_preset", "setup_demo"} <= commands


def test_the_examples_run_in_order_against_the_demo_database(folder):
    work, env = folder
    for block in EXAMPLES:
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-x", "-c", block], cwd=work, env=env,
                                capture_output=True, text=True, timeout=600)
        shown = "%s\n--- output:\n%s%s" % (block, result.stdout, result.stderr)
        assert result.returncode == 0, shown
        written = [int(n) for n in re.findall(r"^(\d+) targets written", result.stdout, flags=re.M)]
        assert 0 not in written, shown  # an export that gives nothing on the demo data
        read = [int(n) for n in re.findall(r": (\d+) rows read", result.stdout)]
        assert 0 not in read, shown


def _synopses(text):
    """`manage.py NAME …` code spans that show a usage: (name, options, complete?)."""
    for span in re.findall(r"`(?:\.venv/bin/python )?manage\.py (\w+)([^`]*)`", text):
        name, rest = span
        yield name, set(re.findall(r"(--[\w-]+)", rest)), "[" in rest


@pytest.mark.parametrize(("name", "options", "complete"), list(_synopses(README)))
def test_each_inline_synopsis_names_a_command_and_its_options(name, options, complete):
    commands = get_commands()
    assert name in commands, "README names manage.py %s, which does not exist" % name
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    known = {o for action in parser._actions for o in action.option_strings if o.startswith("--")}
    assert options <= known, "manage.py %s has no %s" % (name, ", ".join(sorted(options - known)))
    if complete:
        missing = known - DJANGO_OPTIONS - options
        assert not missing, "the README's usage of manage.py %s leaves out %s" % (name, ", ".join(sorted(missing)))


def _variables_read() -> set[str]:
    sources = (ROOT / "taizhang" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    return set(re.findall(r"(?:environ\.get|_flag|_list)\(\s*\"(TAIZHANG_\w+)\"", sources))


def _variables_documented() -> set[str]:
    table = README.split("### Configuration (environment)", 1)[1].split("\n\n", 2)[1]
    names = set()
    for line in table.splitlines():
        first = line.split("|")[1] if line.startswith("|") else ""
        tokens = re.findall(r"`(_?[A-Z_]+)`", first)
        for token in tokens:
            if token.startswith("_"):  # `_MAX_COLUMNS` after `TAIZHANG_IMPORT_MAX_SHEET_ROWS`
                stem = tokens[0]
                token = stem[:stem.index("_" + token.split("_")[1] + "_")] + token
            names.add(token)
    return names


def test_the_configuration_table_lists_every_variable_the_settings_read():
    read, documented = _variables_read(), _variables_documented()
    assert len(read) > 30
    assert read - documented == set(), "read but not in the README's table"
    assert documented - read == set(), "in the README's table but never read"
