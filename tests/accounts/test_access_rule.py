"""The one access rule: where a membership reaches, what it allows, and asked without queries."""

import ast
import pathlib

from taizhang.accounts.permissions import ALLOWED, Action
from taizhang.accounts.scoping import held_on, may, visible_q
from taizhang.campaigns.models import GroupDuty
from taizhang.ledger.models import Target

ROOT = pathlib.Path(__file__).resolve().parents[2] / "taizhang"


def test_the_roles_held_on_a_target_are_the_visible_rule_read_in_memory(targets, personas):
    """One reach, two forms: a target's roles are non-empty exactly where `visible_q` lets it in."""
    for name, user in personas.items():
        visible = set(Target.objects.filter(visible_q(user)).values_list("code", flat=True))
        holding = {t.code for t in Target.objects.all() if held_on(user, t).roles}
        assert holding == visible, name


def test_asking_every_action_on_every_target_runs_no_query(targets, personas, django_assert_num_queries):
    rows = list(Target.objects.all())
    users = [personas[n] for n in ("alice", "carol", "dan", "gina")]
    for user in users:
        may(user, rows[0], Action.TARGET_EDIT)  # the memberships, once per user object (a request)
    with django_assert_num_queries(0):
        answers = {(u.username, t.code, a): may(u, t, a) for u in users for t in rows for a in Action}
    assert answers[("alice", "GC-0001", Action.STEP_VERIFY)] is True
    assert answers[("alice", "LG-0001", Action.STEP_VERIFY)] is False  # another street
    assert answers[("dan", "GC-0001", Action.VERIFICATION_CONFIRM_HOLDER)] is True
    assert answers[("dan", "GC-0003", Action.VERIFICATION_CONFIRM_HOLDER)] is False  # not his unit's
    assert answers[("carol", "LG-0002", Action.STEP_HOLD)] is True
    assert answers[("alice", "GC-0001", Action.STEP_HOLD)] is False


def test_a_working_group_holds_its_duties_campaign_wide(targets, personas):
    gina, jin = personas["gina"], personas["jin"]  # 政策法规组 (legal); 纪检监察 (none)
    for target in targets.values():
        assert held_on(gina, target).duties == {GroupDuty.LEGAL}
        assert may(gina, target, Action.JUDICIAL_RECORD) and not may(gina, target, Action.LEASE_RECORD)
        assert not held_on(jin, target).duties and not may(jin, target, Action.JUDICIAL_RECORD)


def test_the_system_may_do_everything_and_a_deactivated_user_nothing(targets, personas):
    target = targets["GC-0001"]
    carol = personas["carol"]
    carol.is_active = False
    assert all(may(None, target, a) for a in Action)
    assert not any(may(carol, target, a) for a in Action)


def test_every_action_has_its_row():
    assert set(ALLOWED) == set(Action)


def test_no_role_set_outside_the_table():
    """A set of roles written anywhere but accounts is a second access rule."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts or path.parent.name == "accounts":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Set | ast.Tuple | ast.List):
                roles = [e for e in node.elts if isinstance(e, ast.Attribute)
                         and ast.unparse(e.value) in ("R", "Role", "Membership.Role")]
                if len(roles) > 1:
                    found.append("%s:%d" % (path.relative_to(ROOT), node.lineno))
    assert found == []
