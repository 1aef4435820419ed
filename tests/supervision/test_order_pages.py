"""The orders' pages: who sees which order, the issuing form, each action's page answer."""

import datetime

import pytest
from django.urls import reverse

from taizhang.core.models import ChangeLogEntry
from taizhang.supervision.models import Order
from taizhang.supervision.orders import order_refer, order_step
from tests.supervision.conftest import TODAY, issue

pytestmark = pytest.mark.usefixtures("english")
State = Order.State
LIST = reverse("supervision:orders")


@pytest.fixture
def client(client, settings):
    """Pages asked for in English, so that their messages read as asserted."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def orders(order, personas, units, targets, today):
    """古城's order (office → 古城), one to 鲁谷, one from the 拆违治乱 group to Dan's rights unit."""
    return {"gc": order, "lg": issue(personas["carol"], units, receiver="LG", targets=[targets["LG-0001"]]),
            "unit": issue(personas["gina"], units, issuer="G08", receiver="U-GC", targets=[targets["GC-0001"]])}


def _numbers(client, user, query=""):
    client.force_login(user)
    response = client.get(LIST + query)
    assert response.status_code == 200
    return sorted(order.number for order in response.context["page"])


# Who sees what: the commander, the office and 纪检监察 every order; a unit those sent from or to it.
SEES = {"lee": {"gc", "lg", "unit"}, "carol": {"gc", "lg", "unit"}, "jin": {"gc", "lg", "unit"},
        "alice": {"gc"}, "erin": {"gc"}, "bob": {"lg"}, "dan": {"unit"}, "gina": {"unit"}, "olive": set()}


@pytest.mark.parametrize("persona", sorted(SEES))
def test_each_user_sees_the_orders_of_their_units_and_gets_404_on_the_others(client, orders, personas, persona):
    client.force_login(personas[persona])
    if persona == "olive":  # no role in any campaign
        assert client.get(LIST).status_code == 404
        return
    assert _numbers(client, personas[persona]) == sorted(orders[k].number for k in SEES[persona])
    for key, order in orders.items():
        status = client.get(reverse("supervision:order", args=[order.pk])).status_code
        assert status == (200 if key in SEES[persona] else 404), (key, status)


def test_a_street_user_cannot_act_on_another_streets_order(client, orders, personas):
    client.force_login(personas["bob"])
    written = ChangeLogEntry.objects.count()
    order = orders["gc"]
    for name, data in [("order_step", {"to": "signed"}), ("order_answer", {"text": "x"}),
                       ("extension_ask", {"deadline": "2016-04-01", "reason": "x"}), ("order_refer", {"reason": "x"})]:
        assert client.post(reverse("supervision:" + name, args=[order.pk]), data).status_code == 404, name
    assert ChangeLogEntry.objects.count() == written


def test_the_office_issues_an_order_from_the_form(client, personas, units, targets, today):
    client.force_login(personas["carol"])
    page = client.get(reverse("supervision:order_new") + "?target=%d" % targets["GC-0003"].pk)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["receiver"] == units["GC"] and form.initial["targets"] == "GC-0003"
    response = client.post(reverse("supervision:order_new"), {
        "issuer": units["OFFICE"].pk, "receiver": units["GC"].pk, "subject": "古城拆违", "text": "限期腾退",
        "deadline": "2016-03-20", "priority": "urgent", "targets": "GC-0003 GC-0001"})
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert (order.number, order.priority) == ("石治乱督〔2016〕1号", "urgent")
    assert sorted(order.targets.values_list("code", flat=True)) == ["GC-0001", "GC-0003"]


@pytest.mark.parametrize(("change", "message"), [
    ({"deadline": "2016-02-01"}, "Deadline: 2016-02-01 is in the past"),
    ({"targets": "GC-0001 NOPE-1"}, "No target NOPE-1 in this campaign"),
    ({"targets": "LG-0001"}, "LG-0001 are not"),
    ({"deadline": "2016-13-01"}, "Enter a valid date"),
])
def test_a_bad_order_is_refused_with_its_reason_and_nothing_is_issued(client, personas, units, targets, today,
                                                                        change, message):
    client.force_login(personas["carol"])
    written = ChangeLogEntry.objects.count()
    response = client.post(reverse("supervision:order_new"), {
        "issuer": units["OFFICE"].pk, "receiver": units["GC"].pk, "subject": "古城拆违", "text": "限期腾退",
        "deadline": "2016-03-20", "priority": "normal", "targets": "GC-0001", **change})
    assert response.status_code == 400 and message in response.content.decode()
    assert Order.objects.count() == 0 and ChangeLogEntry.objects.count() == written


def test_a_street_user_may_not_open_the_issuing_form(client, personas, today):
    client.force_login(personas["alice"])
    assert client.get(reverse("supervision:order_new")).status_code == 403


def test_the_street_signs_answers_and_the_office_confirms_through_the_pages(client, order, personas, today):
    client.force_login(personas["alice"])
    page = client.get(order.get_absolute_url())
    assert 'id="step-signed"' in page.content.decode() and 'id="step-done"' not in page.content.decode()
    client.post(reverse("supervision:order_step", args=[order.pk]), {"to": "signed"})
    response = client.post(reverse("supervision:order_answer", args=[order.pk]), {"text": "已腾退", "done": "on"})
    assert response.status_code == 302
    client.force_login(personas["carol"])
    assert 'id="step-done"' in client.get(order.get_absolute_url()).content.decode()
    client.post(reverse("supervision:order_step", args=[order.pk]), {"to": "done"})
    order.refresh_from_db()
    assert order.state == State.DONE


def test_a_refused_action_comes_back_as_a_message_naming_why(client, order, personas, today):
    client.force_login(personas["alice"])
    response = client.post(reverse("supervision:order_step", args=[order.pk]), {"to": "returned"}, follow=True)
    assert "Sending an order back needs a reason." in response.content.decode()
    order.refresh_from_db()
    assert order.state == State.ISSUED


def test_colours_count_and_filter(client, orders, personas, today):
    today.set(TODAY + datetime.timedelta(days=8))  # all three due in 10 days: yellow
    order_step(actor=personas["carol"], order=orders["lg"], to=State.WITHDRAWN)
    client.force_login(personas["carol"])
    response = client.get(LIST)
    assert response.context["counts"] == {"green": 0, "yellow": 2, "red": 0, "grey": 1}
    assert len(response.context["page"]) == 3
    assert _numbers(client, personas["carol"], "?colour=grey") == [orders["lg"].number]
    today.set(TODAY + datetime.timedelta(days=11))
    assert _numbers(client, personas["carol"], "?colour=red") == sorted([orders["gc"].number, orders["unit"].number])
    assert _numbers(client, personas["alice"], "?colour=red") == [orders["gc"].number]


def test_the_list_reads_a_fixed_number_of_queries(client, orders, personas, units, today,
                                                  django_assert_max_num_queries):
    client.force_login(personas["carol"])
    client.get(LIST)
    with django_assert_max_num_queries(12) as few:
        client.get(LIST)
    for _n in range(5):
        issue(personas["carol"], units)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(LIST)


def test_discipline_inspection_sees_its_queue_and_records_an_outcome(client, order, personas, today):
    order_refer(actor=personas["carol"], order=order, reason="多次督办未落实")
    client.force_login(personas["jin"])
    queue = client.get(reverse("supervision:referrals"))
    assert [r.order for r in queue.context["page"]] == [order]
    response = client.post(reverse("supervision:accountability_add", args=[order.pk]),
                           {"person": "alice", "outcome": "约谈", "reason": "推进迟缓"}, follow=True)
    assert "Outcome recorded." in response.content.decode()
    assert order.referral.outcomes.get().outcome == "约谈"
    response = client.post(reverse("supervision:accountability_add", args=[order.pk]),
                           {"person": "nobody", "outcome": "约谈", "reason": "x"}, follow=True)
    assert "There is no user “nobody”." in response.content.decode()
    client.force_login(personas["bob"])
    assert list(client.get(reverse("supervision:referrals")).context["page"]) == []


def test_the_dashboard_counts_the_users_orders_by_colour(client, orders, personas, today):
    client.force_login(personas["carol"])
    response = client.get(reverse("command:dashboard"))
    assert response.context["order_counts"] == {"green": 3, "yellow": 0, "red": 0, "grey": 0}
    assert response.context["may_issue_orders"] is True
    assert 'href="/orders/?colour=green"' in response.content.decode()
    client.force_login(personas["alice"])
    response = client.get(reverse("command:dashboard"))
    assert response.context["order_counts"]["green"] == 1 and response.context["may_issue_orders"] is False


def test_an_order_is_opened_from_a_targets_page_by_those_who_issue(client, personas, targets, today):
    url = reverse("ledger:target", args=[targets["GC-0001"].pk])
    client.force_login(personas["carol"])
    page = client.get(url).content.decode()
    assert 'href="/orders/new/?target=%d"' % targets["GC-0001"].pk in page
    assert 'href="/orders/?target=GC-0001"' in page
    client.force_login(personas["alice"])
    assert 'id="order-link"' not in client.get(url).content.decode()


def test_an_order_from_an_early_warning_names_the_street_and_the_gap(client, personas, units, today):
    client.force_login(personas["carol"])
    url = reverse("supervision:order_new") + "?street=GC&subject=古城街道: 12 targets short"
    form = client.get(url).context["form"]
    assert form.initial["receiver"] == units["GC"] and form.initial["subject"] == "古城街道: 12 targets short"


def test_the_colour_filter_agrees_with_each_orders_colour(order, personas, units, today):
    """For every deadline around the yellow line and every state: the list's filter (a query)
    gives exactly the orders whose own colour (in Python) is the one asked for."""
    from taizhang.supervision.selectors import colour_q

    made = []
    for state in Order.State.values:
        for days in range(-2, 6):
            deadline = TODAY + datetime.timedelta(days=days)
            made.append(Order(campaign=order.campaign, year=2016, serial=100 + len(made), number="T%d" % len(made),
                              issuer=units["OFFICE"], receiver=units["GC"], subject="s", text="t", deadline=deadline,
                              state=state, issued_at=order.issued_at))
    Order.objects.bulk_create(made)
    for colour in Order.Colour.values:
        by_query = set(Order.objects.filter(colour_q(colour, TODAY, 3)).values_list("pk", flat=True))
        by_order = {o.pk for o in Order.objects.all() if o.colour(TODAY, 3) == colour}
        assert by_query == by_order, colour


def test_the_campaign_change_log_reads_an_orders_entries(client, order, personas, today):
    from taizhang.supervision.orders import extension_ask

    order_step(actor=personas["alice"], order=order, to=State.SIGNED)
    extension_ask(actor=personas["alice"], order=order, deadline=TODAY + datetime.timedelta(days=20),
                  reason="租户未搬离")
    client.force_login(personas["carol"])
    response = client.get(reverse("ledger:history"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "石治乱督〔2016〕1号" in page and "租户未搬离" in page and "古城街道" in page
