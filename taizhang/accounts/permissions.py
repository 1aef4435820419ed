"""Who may do what: every role set in one table, beside the action it allows.

The table is data; `scoping.may(user, target, Action.X)` applies it: the roles (and
working-group duties) the user holds on that target meet the action's row here. A state
machine's step names the action that allows it, so the steps table and this one stay two
plain tables, and a new app adds its actions here rather than a role set of its own.
"""

from dataclasses import dataclass
from enum import StrEnum

from taizhang.campaigns.models import GroupDuty

from .models import Membership

R = Membership.Role


class Action(StrEnum):
    """Everything the access rule is asked about."""

    TARGET_EDIT = "target.edit"
    # The target's workflow steps (remediation.workflow.STEPS names them).
    STEP_VERIFY = "step.verify"
    STEP_APPROVE_PLAN = "step.approve_plan"
    STEP_START = "step.start"
    STEP_REPORT_COMPLETION = "step.report_completion"
    STEP_ACCEPT = "step.accept"
    STEP_REBOUND = "step.rebound"
    STEP_REMEDIATE_AGAIN = "step.remediate_again"
    STEP_HOLD = "step.hold"
    STEP_RESUME = "step.resume"
    # The records behind the steps.
    VERIFICATION_RECORD = "verification.record"
    VERIFICATION_CONFIRM_STREET = "verification.confirm_street"
    VERIFICATION_CONFIRM_HOLDER = "verification.confirm_holder"
    PLAN_RECORD = "plan.record"
    PLAN_APPROVE = "plan.approve"
    POLICY_EDIT = "policy.edit"
    ACCEPTANCE_RECORD = "acceptance.record"
    INSPECTION_RECORD = "inspection.record"
    OUTCOME_RECORD = "outcome.record"
    PILOT_MARK = "pilot.mark"
    LESSON_RECORD = "lesson.record"
    PHOTO_ADD = "photo.add"
    LEASE_RECORD = "lease.record"
    JUDICIAL_RECORD = "judicial.record"
    PETITION_HANDLE = "petition.handle"
    KEEP_BOOKS = "books.keep"
    # Whom a to-do list (remediation.todo) reminds, where no action above says it.
    PLAN_CARRY_OUT = "plan.carry_out"
    OVERDUE_WATCH = "overdue.watch"
    # The campaign's whole change log: read, filter and export it, and prove the chain.
    HISTORY_READ = "history.read"
    HISTORY_VERIFY = "history.verify"
    LABELS_MAP = "labels.map"
    USERS_MANAGE = "users.manage"
    # Supervision orders (督办单): asked of the order's issuing or receiving unit
    # (`scoping.may_for_unit`), or of the campaign (`may_in_campaign`).
    ORDER_ISSUE = "order.issue"
    ORDER_RECEIVE = "order.receive"
    ORDERS_SEE_ALL = "orders.see_all"
    ORDER_REFER = "order.refer"
    REFERRAL_RECORD = "referral.record"
    # Performance records (实绩档案): everyone's seen by these roles (a person sees their own, a
    # unit's head the unit's: assessment.records); commendations recorded by the HQ office.
    RECORDS_SEE_ALL = "records.see_all"
    COMMENDATION_RECORD = "commendation.record"


@dataclass(frozen=True)
class Allowed:
    """The roles, and the working-group duties, that allow an action."""

    roles: frozenset = frozenset()
    duties: frozenset = frozenset()


def _roles(*roles, duties=()) -> Allowed:
    return Allowed(frozenset(roles), frozenset(duties))


ALLOWED = {
    Action.TARGET_EDIT: _roles(R.OFFICE, R.STREET),
    Action.STEP_VERIFY: _roles(R.STREET, R.OFFICE),
    Action.STEP_APPROVE_PLAN: _roles(R.OFFICE),
    Action.STEP_START: _roles(R.STREET, R.OFFICE, R.UNIT),
    Action.STEP_REPORT_COMPLETION: _roles(R.STREET, R.UNIT, R.OFFICE),
    Action.STEP_ACCEPT: _roles(R.OFFICE),
    # By hand, the HQ office only; a failed re-inspection takes it as the system.
    Action.STEP_REBOUND: _roles(R.OFFICE),
    Action.STEP_REMEDIATE_AGAIN: _roles(R.STREET, R.OFFICE),
    Action.STEP_HOLD: _roles(R.OFFICE),
    Action.STEP_RESUME: _roles(R.OFFICE),
    Action.VERIFICATION_RECORD: _roles(R.STREET, R.UNIT, R.OFFICE),
    # A verification counts once both sides confirm: the street (or the office for it) and the holder.
    Action.VERIFICATION_CONFIRM_STREET: _roles(R.STREET, R.OFFICE),
    Action.VERIFICATION_CONFIRM_HOLDER: _roles(R.UNIT),
    # Drafting a plan is editing it: the street sub-command leads it (the speech: 分指 牵头 研判、会商
    # with the rights holders) or the HQ office; a rights unit owns steps in it, not the plan.
    Action.PLAN_RECORD: _roles(R.STREET, R.OFFICE),
    Action.PLAN_APPROVE: _roles(R.OFFICE),
    Action.POLICY_EDIT: _roles(R.OFFICE, R.GROUP),
    Action.ACCEPTANCE_RECORD: _roles(R.OFFICE),
    Action.INSPECTION_RECORD: _roles(R.STREET, R.OFFICE),
    Action.OUTCOME_RECORD: _roles(R.STREET, R.UNIT, R.OFFICE),
    Action.PILOT_MARK: _roles(R.STREET, R.OFFICE),
    Action.LESSON_RECORD: _roles(R.STREET, R.OFFICE, R.UNIT),
    Action.PHOTO_ADD: _roles(R.STREET, R.UNIT, R.OFFICE),
    Action.LEASE_RECORD: _roles(R.STREET, R.UNIT, R.OFFICE),
    # The court steps also by the group the preset charges with the legal path (政策法规组).
    Action.JUDICIAL_RECORD: _roles(R.STREET, R.UNIT, R.OFFICE, duties=[GroupDuty.LEGAL]),
    Action.PETITION_HANDLE: _roles(R.STREET, R.OFFICE, duties=[GroupDuty.PETITIONS]),
    # Unlocking accounts and printing the change log's digest.
    Action.KEEP_BOOKS: _roles(R.OFFICE),
    # The approved plan's steps are carried out on the ground: the street and the rights unit are
    # reminded of the steps due (and the step's owner unit, which the plan names).
    Action.PLAN_CARRY_OUT: _roles(R.STREET, R.UNIT),
    # Discipline inspection follows what is overdue, and the petitions, across what it sees.
    Action.OVERDUE_WATCH: _roles(R.DISCIPLINE),
    # The HQ office keeps the books; discipline inspection checks them.
    Action.HISTORY_READ: _roles(R.OFFICE, R.DISCIPLINE),
    Action.HISTORY_VERIFY: _roles(R.OFFICE, R.DISCIPLINE),
    # Saving a word offices write as an alias of a known label, for every import after.
    Action.LABELS_MAP: _roles(R.OFFICE),
    # Creating accounts, placing them in units and roles, deactivating them, resetting passwords:
    # over the users whose every membership is in a campaign where the actor holds this.
    Action.USERS_MANAGE: _roles(R.OFFICE),
    # The HQ office issues orders, and a working group within its duty (speech: 指挥部办公室要做好
    # 督查督办); the order's issuing unit confirms it done or sends it back.
    Action.ORDER_ISSUE: _roles(R.OFFICE, R.GROUP),
    # The unit an order is sent to signs for it, answers it and reports it done.
    Action.ORDER_RECEIVE: _roles(R.STREET, R.UNIT, R.GROUP, R.OFFICE),
    # The commander, the office and discipline inspection follow every order of the campaign.
    Action.ORDERS_SEE_ALL: _roles(R.LEADER, R.OFFICE, R.DISCIPLINE),
    # Referring an order to 纪检监察 by hand (the sweep refers as the system).
    Action.ORDER_REFER: _roles(R.OFFICE),
    # 纪检监察 records what each responsible person is held to.
    Action.REFERRAL_RECORD: _roles(R.DISCIPLINE),
    Action.RECORDS_SEE_ALL: _roles(R.LEADER, R.OFFICE, R.DISCIPLINE),
    Action.COMMENDATION_RECORD: _roles(R.OFFICE),
}
