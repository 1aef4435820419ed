"""Browser fixtures: one headless Chromium per session, a fresh context and page per test.

Playwright's sync API keeps an asyncio event loop running in the main thread, and Django
refuses ORM calls from a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set.
The variable is read at call time, so setting it here (when this directory is collected)
is enough; it affects the whole pytest process, which is harmless for a test run.

Database: the shared `campaign`/`units`/`targets`/`personas` fixtures ask for `db`, but
pytest-django makes the test transactional whenever `live_server` or `transactional_db` is
among the test's fixtures (it checks the test's whole fixture closure), so requesting
`live_server` via the `server` fixture below is enough: rows the fixtures create are
committed and the server thread sees them; tables are flushed after the test.
"""

import os

import pytest
from playwright.sync_api import sync_playwright

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(live_server, transactional_db):
    """The live server's base URL, with committed (transactional) test data."""
    return live_server.url


@pytest.fixture
def csp_violations(settings):
    """The production Content-Security-Policy, enforced; the browser's complaints about it."""
    settings.SECURE_CSP, settings.SECURE_CSP_REPORT_ONLY = settings.TAIZHANG_CSP, {}
    return []


@pytest.fixture
def page(browser, server, csp_violations):
    # A Chinese browser, as the officials have: LocaleMiddleware then picks zh-hans (the
    # default); Chromium's own Accept-Language (en-US) would give the English UI.
    context = browser.new_context(base_url=server, accept_downloads=True, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Chromium reports every blocked script, style or eval in the console.
    page.on("console", lambda message: "Content Security Policy" in message.text and csp_violations.append(
        "%s: %s" % (page.url, message.text)))
    yield page
    context.close()
    # Every browser test runs under the policy: whatever it clicked through, nothing was blocked.
    assert csp_violations == []
