"""The work page and a workflow step, in queries: pinned, and not growing with the steps offered."""

import dataclasses

import pytest
from django.db import connection

from taizhang.accounts.permissions import Action
from taizhang.core.transitions import Step
from taizhang.ledger.models import Target
from taizhang.remediation import workflow

S = Target.State
# Office: the HQ office sees the whole campaign; street: alice in 古城, where GC-0001 is. The page
# counts one query for the header's unread notifications.
WORK_PAGE = {"carol": 9, "alice": 9}
STEP_POST = {"carol": 17, "alice": 17}
# PostgreSQL appends the change-log entry with COPY, which Django does not count as a query.
UNCOUNTED_ON_POSTGRESQL = 1


@pytest.fixture
def many_steps(monkeypatch):
    """Ten more buttons from 已登记, all allowed to the office and the street."""
    extra = tuple(Step(S.REGISTERED, "extra-%d" % i, Action.STEP_VERIFY, None, "extra %d" % i) for i in range(10))
    monkeypatch.setattr(workflow, "MACHINE", dataclasses.replace(workflow.MACHINE, steps=workflow.STEPS + extra))


def _work_page(client, target):
    response = client.get("/work/targets/%d/" % target.pk)
    assert response.status_code == 200
    return [step.target for step in response.context["steps"]]


@pytest.mark.parametrize("persona", sorted(WORK_PAGE))
def test_the_work_page_query_count_is_pinned_and_does_not_grow_with_the_steps(
        client, targets, personas, persona, monkeypatch, django_assert_num_queries, many_steps):
    target = targets["GC-0001"]
    client.force_login(personas[persona])
    client.get("/work/targets/%d/" % target.pk)  # warm the session
    with django_assert_num_queries(WORK_PAGE[persona]):
        offered = _work_page(client, target)
    assert len(offered) >= 11
    monkeypatch.setattr(workflow, "MACHINE", dataclasses.replace(workflow.MACHINE, steps=workflow.STEPS))
    with django_assert_num_queries(WORK_PAGE[persona]):
        assert len(_work_page(client, target)) < len(offered)


@pytest.mark.parametrize("persona", sorted(STEP_POST))
def test_a_step_post_query_count_is_pinned(client, targets, personas, persona, django_assert_num_queries, many_steps):
    target = targets["GC-0001"]
    client.force_login(personas[persona])
    client.get("/work/targets/%d/" % target.pk)  # warm the session
    expected = STEP_POST[persona] - (UNCOUNTED_ON_POSTGRESQL if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(expected):
        response = client.post("/work/targets/%d/step/" % target.pk, {"to": "extra-3", "comment": "ok"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.state == "extra-3"
