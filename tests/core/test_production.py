"""The production profile (TAIZHANG_DEBUG=0): a secret key of its own, HTTPS behind a
proxy, a Content-Security-Policy, and `check --deploy` with nothing to say."""

import re
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from tests.conftest import PASSWORD
from tests.production import HOST, SETTINGS_FILE, apply, clean_environ, load_settings, production_env

ROOT = SETTINGS_FILE.parent.parent
HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.mark.parametrize("key", [None, "", "dev-only-insecure-key-change-me"])
def test_production_refuses_to_start_without_a_secret_key_of_its_own(key):
    env = production_env()
    del env["TAIZHANG_SECRET_KEY"]
    if key is not None:
        env["TAIZHANG_SECRET_KEY"] = key
    with pytest.raises(ImproperlyConfigured, match="TAIZHANG_SECRET_KEY_FILE"):
        load_settings(env)


def test_a_command_refuses_too_and_says_how_to_set_a_key():
    env = production_env()
    del env["TAIZHANG_SECRET_KEY"]
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=clean_environ(env),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "set TAIZHANG_SECRET_KEY" in done.stderr


def test_production_refuses_to_start_without_the_change_logs_key(tmp_path):
    env = production_env(TAIZHANG_CHAIN_KEY_FILE=str(tmp_path / "missing.key"))
    del env["TAIZHANG_CHAIN_KEY"]
    with pytest.raises(ImproperlyConfigured, match="the change log needs its key: set TAIZHANG_CHAIN_KEY"):
        load_settings(env)
    (tmp_path / "missing.key").write_text("c" * 64 + "\n")
    assert load_settings(env)["TAIZHANG_CHAIN_KEY_FILE"] == tmp_path / "missing.key"


def test_the_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("k" * 20 + "from-a-file-0123456789abcdefghijklmnop\n")
    env = production_env(TAIZHANG_SECRET_KEY_FILE=str(key_file))
    del env["TAIZHANG_SECRET_KEY"]
    assert load_settings(env)["SECRET_KEY"] == key_file.read_text().strip()


def test_development_keeps_its_public_key():
    assert load_settings({})["SECRET_KEY"] == "dev-only-insecure-key-change-me"


def test_a_misspelt_flag_is_refused_rather_than_read_as_production():
    with pytest.raises(ImproperlyConfigured, match="TAIZHANG_DEBUG"):
        load_settings({"TAIZHANG_DEBUG": "flase"})


def test_check_deploy_has_nothing_to_say_in_the_production_profile(tmp_path):
    env = production_env(TAIZHANG_DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=clean_environ(env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.fixture
def production(settings):
    return apply(settings, production_env())


def _login(client, headers, host=HOST):
    page = client.get("/accounts/login/", headers=headers, HTTP_HOST=host)
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value
    return client.post("/accounts/login/", {"username": "alice", "password": PASSWORD,
                                            "csrfmiddlewaretoken": token},
                       headers=headers, HTTP_HOST=host)


def test_login_works_behind_a_tls_proxy(production, personas):
    client = Client(enforce_csrf_checks=True)
    response = _login(client, {**HTTPS, "Origin": "https://" + HOST})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(personas["alice"].pk)
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["csrftoken"]["secure"] is True
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_plain_http_is_sent_to_https(production, db):
    response = Client().get("/accounts/login/", HTTP_HOST=HOST)
    assert response.status_code == 301 and response["Location"] == "https://%s/accounts/login/" % HOST


def test_a_forwarded_proto_is_not_believed_without_a_proxy(settings, db):
    apply(settings, production_env(TAIZHANG_BEHIND_PROXY="0"))
    response = Client().get("/accounts/login/", headers=HTTPS, HTTP_HOST=HOST)
    assert response.status_code == 301


@pytest.mark.parametrize("trusted, status", [("", 403), ("https://" + HOST, 302)])
def test_an_origin_the_host_header_does_not_name_needs_csrf_trusted_origins(settings, personas, trusted, status):
    # A proxy that passes its upstream's address as Host rather than the public name.
    apply(settings, production_env(TAIZHANG_ALLOWED_HOSTS=HOST + ",127.0.0.1",
                                   TAIZHANG_CSRF_TRUSTED_ORIGINS=trusted))
    client = Client(enforce_csrf_checks=True)
    response = _login(client, {**HTTPS, "Origin": "https://" + HOST}, host="127.0.0.1")
    assert response.status_code == status
    assert ("_auth_user_id" in client.session) is (status == 302)


def test_pages_carry_an_enforced_policy_whose_nonce_the_page_uses(production, personas):
    client = Client()
    client.force_login(personas["carol"])
    response = client.get("/ledger/", headers=HTTPS, HTTP_HOST=HOST)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy and "unsafe" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert ('nonce="%s"' % nonce) in response.content.decode()
    assert "Content-Security-Policy-Report-Only" not in response


def test_development_only_reports_the_policy(client, personas):
    client.force_login(personas["carol"])
    response = client.get("/ledger/")
    assert "Content-Security-Policy" not in response
    assert "default-src 'self'" in response["Content-Security-Policy-Report-Only"]


# What a strict policy blocks: inline code and styles, handlers, htmx's eval'd attributes.
INLINE = re.compile(r"""<script(?![^>]*\bsrc=)|<style\b|\sstyle=|\son[a-z]+=|\shx-on[:-]"""
                    r"""|\shx-vals=['"]\s*js:|javascript:""")


def test_no_template_has_code_or_styles_the_policy_would_block():
    offenders = []
    for template in sorted((ROOT / "taizhang").rglob("templates/**/*.html")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), start=1):
            if INLINE.search(line) and 'nonce="{{ csp_nonce }}"' not in line:
                offenders.append("%s:%d: %s" % (template.relative_to(ROOT), number, line.strip()))
    assert offenders == []
