"""The production profile as the settings module builds it from the environment.

`production_env()` is what an operator sets; `load_settings(env)` runs taizhang/settings.py
afresh under exactly that environment (no TAIZHANG_* variable leaks in from the test
run) and returns its settings, so tests check the real module, not a copy of its values.
"""

import os
import runpy
import secrets
from pathlib import Path
from unittest import mock

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "taizhang" / "settings.py"
HOST = "taizhang.example.gov.cn"
# Settings a test keeps from the test run: its database and its files.
KEEP = {"DATABASES", "DATA_DIR", "STATIC_ROOT", "MEDIA_ROOT", "STATICFILES_DIRS", "BASE_DIR"}


def production_env(**extra) -> dict[str, str]:
    env = {"TAIZHANG_DEBUG": "0", "TAIZHANG_SECRET_KEY": secrets.token_urlsafe(50),
           "TAIZHANG_CHAIN_KEY": secrets.token_hex(32),
           "TAIZHANG_ALLOWED_HOSTS": HOST, "TAIZHANG_BEHIND_PROXY": "1"}
    env.update(extra)
    return env


# Set by the browser tests' conftest for Playwright, for the whole test process; a server
# must not have it (check --deploy says so).
LEAKED = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def clean_environ(env: dict[str, str]) -> dict[str, str]:
    """os.environ without any TAIZHANG_* variable (nor what the test run set), plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_") and k not in LEAKED}
    return {**base, **env}


def load_settings(env: dict[str, str]) -> dict:
    with mock.patch.dict(os.environ, clean_environ(env), clear=True):
        namespace = runpy.run_path(str(SETTINGS_FILE))
    return {k: v for k, v in namespace.items() if k.isupper()}


def apply(settings, env: dict[str, str]) -> dict:
    """Override pytest-django's `settings` with every setting the profile changes."""
    loaded = load_settings(env)
    for name, value in loaded.items():
        if name not in KEEP and getattr(settings, name, object()) != value:
            setattr(settings, name, value)
    return loaded
