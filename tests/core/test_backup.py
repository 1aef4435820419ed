"""bin/backup and its restore check (docs/operations.md, "Backups"): a backup of a demo
database with a photo restores and proves whole; an altered file, a rewritten history or a
missing photo is named, not passed. Run as an operator runs them, in processes of their own,
on a data folder of their own (SQLite; PostgreSQL too when one answers on 127.0.0.1)."""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.production import clean_environ

ROOT = Path(__file__).resolve().parent.parent.parent
BACKUP = ROOT / "bin" / "backup"
ADD_PHOTO = """
import io
from PIL import Image
from django.contrib.auth import get_user_model
from taizhang.core.context import request_context
from taizhang.ledger.models import Target
from taizhang.remediation.photos import photo_add
data = io.BytesIO()
Image.new("RGB", (8, 8), "red").save(data, "JPEG")
with request_context():
    photo_add(target=Target.objects.order_by("code").first(), name="site.jpg", data=data.getvalue(),
              actor=get_user_model().objects.get(username="office"))
"""


def _run(env, *args, check=True):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=check)


def _live(env):
    """A demo database with one photo, as `make run` would have it, in the environment `env`."""
    _run(env, "manage.py", "migrate", "--no-input", "-v", "0")
    _run(env, "manage.py", "setup_demo")
    _run(env, "manage.py", "shell", "-c", ADD_PHOTO)


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory):
    data = tmp_path_factory.mktemp("live")
    env = clean_environ({"TAIZHANG_DATA_DIR": str(data)})
    _live(env)
    result = _run(env, str(BACKUP), str(data / "backups"))
    assert "1 photos" in result.stdout
    (folder,) = (data / "backups").iterdir()
    return env, folder


@pytest.fixture
def copy(backed_up, tmp_path):
    env, folder = backed_up
    return env, Path(shutil.copytree(folder, tmp_path / folder.name))


def _check(env, folder):
    result = _run(env, str(BACKUP), "--check", str(folder), check=False)
    return result.returncode, result.stdout + result.stderr


def _reseal(folder, name):
    """Rewrite the manifest's checksum of `name`, as someone covering their tracks would."""
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name]["sha256"] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_backup_holds_the_database_the_photos_and_the_digest(backed_up):
    _env, folder = backed_up
    assert sorted(p.name for p in folder.iterdir()) == ["database.sqlite3", "digest.txt", "manifest.json",
                                                         "media.tar"]
    with tarfile.open(folder / "media.tar") as tar:
        assert [n for n in tar.getnames() if n.endswith(".jpg")]
    assert not list(folder.glob("*key*"))  # the keys are kept apart, never in a backup
    # One self-contained file (a WAL database copied alone would lose what its -wal file holds).
    with sqlite3.connect(folder / "database.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_backup_restores_and_proves_whole(backed_up):
    env, folder = backed_up
    code, output = _check(env, folder)
    assert code == 0, output
    assert "restore check passed: history verified" in output
    assert "528 targets" in output and "1 photos present and intact" in output


def test_a_file_altered_since_the_backup_is_named(copy):
    env, folder = copy
    with (folder / "database.sqlite3").open("ab") as f:
        f.write(b"\0")
    code, output = _check(env, folder)
    assert code == 1 and "database.sqlite3 is missing or not what the backup wrote" in output


def test_a_history_rewritten_in_the_copy_is_caught_by_the_replay(copy):
    env, folder = copy
    db = sqlite3.connect(folder / "database.sqlite3")
    with db:
        db.execute("UPDATE ledger_target SET resident_population = 9999 WHERE code = 'BBS-0001'")
    db.close()
    _reseal(folder, "database.sqlite3")
    code, output = _check(env, folder)
    assert code == 1 and "verify_history" in output and "resident_population" in output


def test_a_photo_missing_from_the_archive_is_named(copy):
    env, folder = copy
    with tarfile.open(folder / "media.tar") as tar:
        kept = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()
                if not m.name.endswith(".jpg")]
    with tarfile.open(folder / "media.tar", "w") as tar:
        for member, content in kept:
            tar.addfile(member, None if content is None else io.BytesIO(content))
    _reseal(folder, "media.tar")
    code, output = _check(env, folder)
    assert code == 1 and "photo(s) missing or altered in media.tar" in output


def _postgres_answers() -> bool:
    try:
        import psycopg

        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _postgres_answers(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_postgresql_backup_restores_into_a_scratch_database_and_proves_whole(tmp_path):
    import psycopg

    name = "taizhang_backup_test_%d" % os.getpid()
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute('DROP DATABASE IF EXISTS "%s"' % name)
    admin.execute('CREATE DATABASE "%s"' % name)
    try:
        env = clean_environ({"TAIZHANG_DATA_DIR": str(tmp_path),
                             "TAIZHANG_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/%s" % name})
        _live(env)
        _run(env, str(BACKUP), str(tmp_path / "backups"))
        (folder,) = (tmp_path / "backups").iterdir()
        assert (folder / "database.dump").is_file()
        code, output = _check(env, folder)
        assert code == 0, output
        assert "1 photos present and intact" in output
        scratch = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                (name + "_restore_check_%",)).fetchall()
        assert scratch == []  # the scratch database is dropped after the check
    finally:
        admin.execute('DROP DATABASE IF EXISTS "%s"' % name)
        admin.close()
