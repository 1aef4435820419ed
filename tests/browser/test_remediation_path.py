"""One target's whole path in the browser (issue 3): verify, plan, legal step, completion,
acceptance, then a failed re-inspection and 反弹.

Alice (古城 street staff), Dan (the rights unit of GC-0001) and Carol (HQ office) take turns
in one browser, logging in through the login form and out through the header's button.
Selectors are ids, names and data attributes, so the test holds in either UI language.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from taizhang.ledger.models import Target
from taizhang.remediation.models import Acceptance, Inspection, LegalStep, Plan, TransitionEvent, Verification
from tests.conftest import PASSWORD

S = Target.State


def login(page, username, path="/"):
    """Log in by the form and land on `path`."""
    page.goto("/accounts/login/?next=" + path)
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+" + re.escape(path) + "$"))


def logout(page):
    page.locator("header form[action$='/accounts/logout/'] button[type=submit]").click()
    page.wait_for_url("**/accounts/login/")


def as_user(page, username, path):
    """Switch to `username` (logging the current user out) on the page at `path`."""
    if page.locator("header form[action$='/accounts/logout/']").count():
        logout(page)
    login(page, username, path)


def no_error(page):
    """The last action left no error message on the page."""
    expect(page.locator("main .message.error")).to_have_count(0)


def take_step(page, to):
    """Take the workflow step to state `to` with its button, and see the page show it."""
    page.locator(f"#state button[data-to={to}]").click()
    page.wait_for_load_state()
    no_error(page)
    expect(page.locator("#current-state")).to_have_attribute("data-state", to)


def section(page, name, ready):
    """An HTMX section of the work page once loaded: `ready` is a selector inside it."""
    locator = page.locator(f"#{name}-section")
    expect(locator.locator(ready).first).to_be_attached()
    return locator


@pytest.mark.browser
def test_target_goes_from_verification_to_rebound(page, targets, personas):
    target = targets["GC-0001"]
    work = f"/work/targets/{target.pk}/"
    today = timezone.localdate()

    def day(offset):
        return (today + datetime.timedelta(days=offset)).isoformat()

    # 1. Alice, from the ledger's target page, records a verification on site: 居住人口 120 → 260.
    login(page, "alice", target.get_absolute_url())
    page.click("#work-link")
    page.wait_for_url("**" + work)
    expect(page.locator("#current-state")).to_have_attribute("data-state", S.REGISTERED)
    page.click("#record-verification")
    form = page.locator("#verification-form")
    expect(form.locator("input[name=resident_population]")).to_have_value("120")
    form.locator("input[name=resident_population]").fill("260")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**" + work)
    no_error(page)
    verification = page.locator("article.verification")
    expect(verification).to_have_count(1)
    expect(verification.locator("table")).to_contain_text("260")  # found on site, beside the ledger's 120
    verification.locator("button.confirm").click()
    page.wait_for_url("**" + work)
    no_error(page)

    # ... Dan confirms for the rights holder; Alice marks the target verified.
    as_user(page, "dan", work)
    page.locator("article.verification button.confirm").click()
    page.wait_for_url("**" + work)
    no_error(page)
    expect(page.locator("article.verification button.confirm")).to_have_count(0)
    expect(page.locator("article.verification header .good")).to_be_visible()
    as_user(page, "alice", work)
    take_step(page, S.VERIFIED)

    # 2. Alice drafts plan v1 from the compound template: three means, two of its steps kept.
    section(page, "plans", "#new-plan").locator("#new-plan").click()
    form = page.locator("#plan-form")
    expect(form.locator("input[name=planned_on]")).to_have_value(today.isoformat())
    means = form.locator("#plan-means input[name=means]")
    expect(means).to_have_count(5)
    for n in range(5):  # the compound template uses all five means
        expect(means.nth(n)).to_be_checked()
    for code in ("personal", "administrative"):
        form.locator(f"#plan-means input[value={code}]").uncheck()
    steps = form.locator("fieldset.plan-step")
    assert steps.count() >= 8
    for n in range(steps.count()):
        description = form.locator(f"[name=steps-{n}-description]")
        if n not in (0, 3) and description.input_value():
            form.locator(f"[name=steps-{n}-DELETE]").check()
    form.locator("[name=steps-0-means]").select_option("persuasion")
    form.locator("[name=steps-0-owner]").select_option(label=target.street.name)
    form.locator("[name=steps-0-due_on]").fill(day(14))
    form.locator("[name=steps-3-means]").select_option("legal")
    form.locator("[name=steps-3-owner]").select_option(label=target.responsible_unit.name)
    form.locator("[name=steps-3-due_on]").fill(day(45))
    form.locator("button[type=submit]").click()
    page.wait_for_url("**" + work)
    no_error(page)
    plans = section(page, "plans", "#plan-v1")
    expect(plans.locator("#plan-v1")).to_have_attribute("data-status", "draft")
    expect(plans.locator("#plan-v1 table.plan-steps tbody tr")).to_have_count(2)
    plans.locator("#submit-plan").click()
    page.wait_for_url("**" + work)
    no_error(page)
    expect(section(page, "plans", "#plan-v1").locator("#plan-v1")).to_have_attribute("data-status", "submitted")

    # ... Carol approves it and takes the step 已定策.
    as_user(page, "carol", work)
    section(page, "plans", "#approve-plan").locator("#approve-plan").click()
    page.wait_for_url("**" + work)
    no_error(page)
    expect(section(page, "plans", "#plan-v1").locator("#plan-v1")).to_have_attribute("data-status", "approved")
    take_step(page, S.PLAN_APPROVED)

    # 3. The legal path, as Alice: a lease, its termination notice, a refusal, then 调研 opened.
    as_user(page, "alice", work)
    legal = section(page, "legal", "#add-lease")
    legal.locator("#add-lease summary").click()
    legal.locator("#lease_lessee").fill("北京杨庄物流有限公司")
    legal.locator("#lease_ends_on").fill(day(365))
    legal.locator("#add-lease button[type=submit]").click()
    lease = legal.locator("article.lease")
    expect(lease).to_have_count(1)
    lease.locator("form[action$='/notice/'] input[name=day]").fill(day(-20))
    lease.locator("form[action$='/notice/'] button[type=submit]").click()
    answer = lease.locator("form[action$='/answer/']")
    answer.locator("select[name=answer]").select_option("refused")
    answer.locator("input[name=day]").fill(day(-10))
    answer.locator("button[type=submit]").click()
    expect(lease.locator("dd.answer-refused")).to_be_visible()
    lease.locator("details.open-step summary").click()
    opening = lease.locator("details.open-step form")
    expect(opening.locator("input[name=stage]")).to_have_value(LegalStep.Stage.RESEARCH)
    opening.locator("input[name=due_on]").fill(day(30))
    opening.locator("input[name=court]").fill("石景山区人民法院")
    opening.locator("button[type=submit]").click()
    expect(lease.locator("table.legal-steps tr[id^=legal-step-]")).to_have_count(1)
    expect(legal.locator(".message.error")).to_have_count(0)
    page.reload()  # the step shows on the target's page, not only in the swapped section
    expect(section(page, "legal", "article.lease").locator("tr[id^=legal-step-]")).to_contain_text(day(30))

    # 4. Alice starts the remediation and reports it complete.
    take_step(page, S.IN_REMEDIATION)
    take_step(page, S.COMPLETION_REPORTED)

    # 5. Carol's acceptance passes the checklist: 已销账, and re-inspections are scheduled.
    as_user(page, "carol", work)
    acceptance = section(page, "acceptance", "#acceptance-form").locator("#acceptance-form")
    for name in ("tenants_cleared", "structures_demolished", "site_cleaned", "land_returned"):
        acceptance.locator(f"input[name={name}]").check()
    acceptance.locator("input[name=demolished_area]").fill("350.5")
    acceptance.locator("input[name=decision][value=passed]").check()
    acceptance.locator("button[type=submit]").click()
    page.wait_for_url("**" + work)
    no_error(page)
    expect(page.locator("#current-state")).to_have_attribute("data-state", S.CLOSED)
    scheduled = section(page, "acceptance", "#inspections").locator("#inspections tbody tr")
    expect(scheduled.first).to_be_visible()
    assert scheduled.count() >= 2

    # 6. Alice's re-inspection finds the site rebounded: 反弹, with the whole path on the timeline.
    as_user(page, "alice", work)
    inspection = section(page, "acceptance", "#inspection-form").locator("#inspection-form")
    inspection.locator("input[name=passed][value='0']").check()
    inspection.locator("textarea[name=findings]").fill("大院内又住进十余名租户，新搭建彩钢板房两间")
    inspection.locator("button[type=submit]").click()
    page.wait_for_url("**" + work)
    no_error(page)
    expect(page.locator("#current-state")).to_have_attribute("data-state", S.REBOUND)
    expect(page.locator("#timeline li")).to_have_count(6)
    expect(page.locator("#timeline")).to_contain_text("彩钢板房")
    section(page, "acceptance", "#inspections")
    section(page, "legal", "article.lease")
    section(page, "plans", "#plan-v1")
    page.screenshot(path="/tmp/rebound.png", full_page=True)

    # The database agrees.
    target.refresh_from_db()
    assert target.state == S.REBOUND
    assert target.resident_population == 260  # the confirmed verification corrected the ledger
    events = TransitionEvent.objects.filter(target=target).order_by("at", "id")
    assert [e.to_state for e in events] == [S.VERIFIED, S.PLAN_APPROVED, S.IN_REMEDIATION,
                                            S.COMPLETION_REPORTED, S.CLOSED, S.REBOUND]
    assert [e.actor and e.actor.username for e in events] == ["alice", "carol", "alice", "alice", "carol", None]
    verified = Verification.objects.get(target=target)
    assert (verified.street_confirmed_by, verified.holder_confirmed_by) == (personas["alice"], personas["dan"])
    plan = Plan.objects.get(target=target)
    assert (plan.version, plan.status, plan.approved_by) == (1, Plan.Status.APPROVED, personas["carol"])
    assert sorted(plan.means) == ["economic", "legal", "persuasion"]
    assert plan.steps.count() == 2
    step = LegalStep.objects.get(lease__target=target)
    assert (step.stage, step.due_on.isoformat(), step.lease.answer) == (LegalStep.Stage.RESEARCH, day(30), "refused")
    passed = Acceptance.objects.get(target=target)
    assert (passed.decision, passed.decided_by) == (Acceptance.Decision.PASSED, personas["carol"])
    failed = Inspection.objects.get(target=target, done_on__isnull=False)
    assert (failed.passed, failed.inspector) == (False, personas["alice"])
    assert not Inspection.objects.filter(target=target, done_on__isnull=True).exists()
