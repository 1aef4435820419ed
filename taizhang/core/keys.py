"""The key that seals the change log, kept outside the database.

Someone who can write to the database but has not got the key cannot re-seal entries they
changed: a chain recomputed without the key does not verify. The key comes from
TAIZHANG_CHAIN_KEY or the file TAIZHANG_CHAIN_KEY_FILE (var/chain.key by default); in
development the file is made on first use.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 32


def chain_key() -> bytes:
    """The change log's key; refuses, saying how to set one, when there is none."""
    text = settings.TAIZHANG_CHAIN_KEY
    if not text:
        path = Path(settings.TAIZHANG_CHAIN_KEY_FILE)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            if not settings.TAIZHANG_CHAIN_KEY_CREATE:
                raise ImproperlyConfigured(
                    "No key for the change log: set TAIZHANG_CHAIN_KEY, or put one in the file %s "
                    "(TAIZHANG_CHAIN_KEY_FILE), e.g. `python -c 'import secrets; print(secrets.token_hex(32))' "
                    "> %s`; keep a copy outside the database's backups." % (path, path)) from None
            text = _create(path)
    if len(text) < MIN_LENGTH:
        raise ImproperlyConfigured("The change log's key is shorter than %d characters." % MIN_LENGTH)
    return text.encode()


def _create(path: Path) -> str:
    """A new random key in a file only its owner reads. Written aside and linked into place, so
    a process reading it never sees it half-written; of two making it at once, the first wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_hex(32)
    aside = path.with_name("%s.%d.tmp" % (path.name, os.getpid()))
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text + "\n")
    try:
        os.link(aside, path)
    except FileExistsError:
        text = path.read_text(encoding="utf-8").strip()
    finally:
        aside.unlink()
    return text
