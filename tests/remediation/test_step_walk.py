"""A workflow step's walk from POST to event: decided in remediation, core and accounts.

The ledger only lends its record (the Target model, its row lock, its change-log snapshot)
and never calls back up; the mechanism in core calls remediation only through the plain
functions remediation plugged into its declaration.
"""

import sys

from taizhang.ledger.models import Target
from taizhang.remediation.models import TransitionEvent


def _walk(call):
    """{(caller module, called module, function)} of every taizhang function run by `call`."""
    seen = set()

    def profile(frame, event, _arg):
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if module.startswith("taizhang."):
            caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
            seen.add((caller, module, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


def test_a_step_post_walks_through_remediation_core_and_accounts(client, targets, personas):
    target = targets["GC-0001"]
    client.force_login(personas["carol"])
    client.get("/work/targets/%d/" % target.pk)
    walk = _walk(lambda: client.post("/work/targets/%d/step/" % target.pk, {
        "to": "on_hold", "hold_reason": "产权纠纷", "hold_review_on": "2016-03-01"}))
    assert Target.objects.get(pk=target.pk).state == "on_hold" and TransitionEvent.objects.count() == 1
    modules = {called for _caller, called, _name in walk}
    assert {"taizhang.remediation.views", "taizhang.remediation.workflow", "taizhang.core.transitions",
            "taizhang.accounts.scoping"} <= modules
    # What the step asks of the ledger (its calls into it from above): the target in scope, its
    # row lock and its change-log snapshot. Nothing is decided there.
    asked = {(called, name) for caller, called, name in walk
             if called.startswith("taizhang.ledger.") and not caller.startswith("taizhang.ledger.")}
    assert asked <= {("taizhang.ledger.selectors", "current_campaign"), ("taizhang.ledger.selectors", "ledger_targets"),
                     ("taizhang.ledger.services", "target_lock"), ("taizhang.ledger.services", "target_snapshot"),
                     ("taizhang.ledger.services", "target_change"), ("taizhang.ledger.models", "__str__"),
                     ("taizhang.ledger.models", "visible_to")}, asked
    # No room below calls up into remediation.
    upward = [(caller, called, name) for caller, called, name in walk if called.startswith("taizhang.remediation")
              and caller.startswith(("taizhang.ledger", "taizhang.accounts", "taizhang.campaigns"))]
    assert upward == []
