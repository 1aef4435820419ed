"""Importing accounts from Excel or CSV (name, user name or phone, phone, unit, role): check
every row, then apply all of it or none, like the ledger's import.

`users_prepare` only reads and reports (the dry run); `users_import` runs the same checks
inside one transaction, with the accounts it names locked, and writes through the accounts'
services, so each account and role is in the change log. The file is read by the same
guarded reader as the ledger's (core.tabular: size and shape checked before it is parsed).

A row names one account and one role: several rows with the same user name give that
account several roles. A new account gets a temporary password (shown once, after
applying) that it must replace at its first login. For an account already there, a blank
cell means "not given": its name and phone stay; a role it holds already is left as it is.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.db import atomic, is_transient, is_unique_violation
from taizhang.core.parsing import clean_text, normalize_header
from taizhang.core.tabular import Problem, TableError, read_table

from .models import Membership, UserImportUpload
from .scoping import membership_reaches, units_assignable, users_managed
from .services import AccountError, membership_add, phone_normalized, temporary_password, user_create, user_update

User = get_user_model()
Role = Membership.Role
# How long an uploaded sheet waits between its dry run and being applied.
UPLOAD_KEPT = timedelta(days=1)

# field -> its header, and the other ways offices head the column.
HEADERS = {
    "name": (gettext_lazy("Full name"), ("姓名", "名字", "全名", "人员", "人员姓名", "name", "fullname")),
    "username": (gettext_lazy("User name"), ("用户名", "账号", "帐号", "登录名", "登录账号", "username", "login")),
    "phone": (gettext_lazy("Phone"), ("手机", "手机号", "手机号码", "电话", "联系电话", "联系方式", "phone",
                                      "mobile", "telephone")),
    "unit": (gettext_lazy("Unit"), ("单位", "所在单位", "工作单位", "所属单位", "部门", "unit")),
    "role": (gettext_lazy("Role"), ("角色", "身份", "岗位", "role")),
}
REQUIRED = ("name", "unit", "role")
# The words offices write for each role, beside its label in each language (the README's
# short forms among them).
ROLE_WORDS = {
    Role.LEADER: ("指挥部领导", "领导小组"),
    Role.OFFICE: ("指挥部办公室", "办公室"),
    Role.GROUP: ("专项工作组", "工作组", "工作组成员"),
    Role.STREET: ("街道分指", "街道", "街道工作人员", "分指"),
    Role.UNIT: ("地权单位", "产权单位", "地权/产权单位", "权属单位", "责任单位"),
    Role.DISCIPLINE: ("纪检", "纪委", "纪检监察组"),
    Role.LIAISON: ("联系区领导", "区领导", "联系领导"),
}
NAME_MAX = User._meta.get_field("first_name").max_length
USERNAME_MAX = User._meta.get_field("username").max_length


def _key(text: str) -> str:
    """A label as compared: NFKC, no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def header_lookup() -> dict[str, str]:
    lookup = {}
    for name, (label, variants) in HEADERS.items():
        for text in (*variants, name):
            lookup[normalize_header(text)] = name
        for language, _language_name in settings.LANGUAGES:
            with translation.override(language):
                lookup[normalize_header(str(label))] = name
    return lookup


def role_lookup() -> dict[str, str]:
    lookup = {}
    for role in Role:
        for word in (role.value, *ROLE_WORDS.get(role, ())):
            lookup[_key(word)] = role.value
        for language, _language_name in settings.LANGUAGES:
            with translation.override(language):
                lookup[_key(str(role.label))] = role.value
    return lookup


@dataclass
class AccountRow:
    """One row read and checked: an account and one role of it."""

    row: int
    username: str
    name: str  # "" when not given
    phone: str  # "" when not given
    unit: OrgUnit
    role: str

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


@dataclass
class AccountPlan:
    """What applying does to one account: make it (`user` None) or change it."""

    username: str
    rows: list[int]
    name: str
    phone: str
    roles: list[AccountRow] = field(default_factory=list)  # the roles to give it
    diffs: list[tuple[str, str, str]] = field(default_factory=list)  # (heading, before, after)
    user_id: int | None = None


@dataclass
class UserImportReport:
    """The dry run's answer, and after applying, what was written and the new passwords."""

    filename: str
    sheet: str = ""
    rows_read: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    new: list[AccountPlan] = field(default_factory=list)
    changed: list[AccountPlan] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    # user name -> [id, name, phone, active] as the dry run saw the account, None for no account:
    # applying refuses an account someone made or changed since.
    seen: dict[str, list | None] = field(default_factory=dict)
    applied: bool = False
    # user name -> temporary password of each account made, to hand over; kept nowhere else.
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


class UserImportRejected(AccountError):
    """Applying was refused; `report` lists every problem. Nothing was changed."""

    def __init__(self, report: UserImportReport):
        super().__init__(_("The import has problems; nothing was changed."))
        self.report = report


def _heading(name: str) -> str:
    return str(HEADERS[name][0])


class _Rows:
    """Reads the cells of the table's rows into AccountRows, each problem named by row and column."""

    def __init__(self, campaign: Campaign, actor, report: UserImportReport):
        self.report = report
        units = list(units_assignable(actor).filter(campaign=campaign).order_by("kind", "sort", "code"))
        self.units = {}
        for unit in reversed(units):  # the first unit of a name wins
            for text in (unit.code, unit.short_name, unit.name):
                if text:
                    self.units[_key(text)] = unit
        self.campaign = campaign
        self.roles = role_lookup()
        self.username_validator = UnicodeUsernameValidator()

    def problem(self, row: int, name: str, value, message: str) -> None:
        self.report.problems.append(Problem(row, _heading(name), str(value), message))

    def read(self, row: int, cells: dict) -> AccountRow | None:
        before = len(self.report.problems)
        name = self._text(row, "name", cells.get("name"), NAME_MAX)
        phone = self._phone(row, cells.get("phone"))
        username = self._username(row, cells.get("username"), phone)
        unit = self._unit(row, cells.get("unit"))
        role = self._role(row, cells.get("role"))
        if unit is not None and role is not None and not membership_reaches(Membership(unit=unit, role=role)):
            self.problem(row, "role", cells.get("role"), _(
                "A %(role)s in “%(unit)s” would see nothing; street staff and liaison leaders belong to a "
                "street, rights-unit staff to a system or a rights unit.") % {
                "role": Role(role).label, "unit": unit.name})
        if len(self.report.problems) > before:
            return None
        return AccountRow(row, username, name, phone, unit, role)

    def _text(self, row, name, raw, max_length) -> str:
        text = clean_text(raw)
        if len(text) > max_length:
            self.problem(row, name, text, _("Longer than %(max)s characters.") % {"max": max_length})
        elif not text.isprintable():
            self.problem(row, name, text.encode("unicode_escape").decode(), _(
                "Contains a character that cannot be stored; remove it."))
        return text

    def _phone(self, row, raw) -> str:
        text = clean_text(raw)
        try:
            return phone_normalized(text)
        except AccountError:
            self.problem(row, "phone", text, _("Not a phone number (digits, with + or - at most)."))
            return ""

    def _username(self, row, raw, phone: str) -> str:
        text = clean_text(raw) or phone
        if not text:
            self.problem(row, "username", "", _("Give a user name, or a phone number to log in with."))
            return ""
        try:
            self.username_validator(text)
        except ValidationError as exc:
            self.problem(row, "username", text, " ".join(exc.messages))
        if len(text) > USERNAME_MAX:
            self.problem(row, "username", text, _("Longer than %(max)s characters.") % {"max": USERNAME_MAX})
        return text

    def _unit(self, row, raw) -> OrgUnit | None:
        text = clean_text(raw)
        if not text:
            self.problem(row, "unit", "", _("Give the unit."))
            return None
        unit = self.units.get(_key(text)) or self.units.get(_key(self.campaign.resolve_label(text)))
        if unit is None:
            self.problem(row, "unit", text, _("No unit “%(unit)s” in %(campaign)s that you may place accounts in.")
                         % {"unit": text, "campaign": self.campaign.name})
        return unit

    def _role(self, row, raw) -> str | None:
        text = clean_text(raw)
        role = self.roles.get(_key(text)) if text else None
        if role is None:
            self.problem(row, "role", text, _("Not a role; write one of: %(roles)s.")
                         % {"roles": "、".join(str(r.label) for r in Role)})
        return role


def users_prepare(*, campaign: Campaign, actor, data: bytes, filename: str, sheet: str | None = None,
                  lock: bool = False) -> UserImportReport:
    """Check a sheet of accounts and report what applying it would do; writes nothing."""
    report = UserImportReport(filename=filename)
    if len(data) > settings.TAIZHANG_IMPORT_MAX_BYTES:
        report.problems.append(Problem(None, "", "", _("The file is %(size)s; the limit is %(limit)s.") % {
            "size": filesizeformat(len(data)), "limit": filesizeformat(settings.TAIZHANG_IMPORT_MAX_BYTES)}))
        return report
    lookup = header_lookup()
    try:
        table = read_table(data, filename=filename, match_header=lambda text: lookup.get(normalize_header(text)),
                           required=REQUIRED, labels={name: _heading(name) for name in HEADERS}, sheet=sheet,
                           max_rows=settings.TAIZHANG_IMPORT_MAX_ROWS)
    except TableError as exc:
        report.problems.append(Problem(None, "", "", str(exc)))
        return report
    report.sheet, report.rows_read, report.unknown_columns = table.sheet_name, len(table.rows), table.unknown_columns
    if not {"username", "phone"} & set(table.columns.values()):
        report.problems.append(Problem(None, "", "", _("Required column missing: %(columns)s.") % {
            "columns": _("%(a)s or %(b)s") % {"a": _heading("username"), "b": _heading("phone")}}))
        return report
    reader = _Rows(campaign, actor, report)
    rows = [reader.read(number, {name: cells[c] for c, name in table.columns.items()})
            for number, cells in table.rows]
    _plan(actor, [r for r in rows if r is not None], report, lock=lock)
    return report


def _plan(actor, rows: list[AccountRow], report: UserImportReport, *, lock: bool) -> None:
    """Group the rows by account and say what each account gets."""
    accounts: dict[str, list[AccountRow]] = {}
    for row in rows:
        accounts.setdefault(row.username, []).append(row)
    existing = _existing(actor, accounts, lock=lock)
    managed = set(users_managed(actor).filter(pk__in=[u.pk for u in existing.values()]).values_list("pk", flat=True))
    held = set(Membership.objects.filter(user__in=existing.values()).values_list("user_id", "unit_id", "role"))
    seen_keys = {}
    for username, account_rows in accounts.items():
        first = account_rows[0]
        if username.lower() in seen_keys:
            _problem(report, first, "username", _("Differs only in upper and lower case from “%(other)s” (row "
                                                  "%(row)s): one account, one way of writing it.")
                     % {"other": seen_keys[username.lower()][0], "row": seen_keys[username.lower()][1]})
            continue
        seen_keys[username.lower()] = (username, first.row)
        name, phone = _one_value(report, account_rows, "name"), _one_value(report, account_rows, "phone")
        user = existing.get(username.lower())
        plan = AccountPlan(username, [r.row for r in account_rows], name, phone)
        if user is None:
            report.seen[username] = None
            if not name:
                _problem(report, first, "name", _("Give the person's name for a new account."))
                continue
            plan.roles = _distinct_roles(account_rows)
            report.new.append(plan)
            continue
        report.seen[username] = _state(user)
        if user.username != username:
            _problem(report, first, "username", _("The account is “%(existing)s”; write its user name that way.")
                     % {"existing": user.username})
        elif user.pk not in managed:
            _problem(report, first, "username", _("“%(user)s” is not an account you may manage.")
                     % {"user": username})
        elif not user.is_active:
            _problem(report, first, "username", _("“%(user)s” is deactivated; reactivate it first.")
                     % {"user": username})
        else:
            plan.user_id = user.pk
            current = {"name": user.first_name, "phone": _phone_of(user)}
            plan.diffs = [(_heading(f), current[f], new) for f, new in (("name", name), ("phone", phone))
                          if new and new != current[f]]
            plan.roles = [r for r in _distinct_roles(account_rows) if (user.pk, r.unit.pk, r.role) not in held]
            if plan.diffs or plan.roles:
                report.changed.append(plan)
            else:
                report.unchanged += 1


def _existing(actor, accounts, *, lock: bool) -> dict[str, object]:
    """The accounts the file names that are there already, by their user name's key (lower
    case: "Li" in the file is the account "li")."""
    keys = sorted({username.lower() for username in accounts})
    found = {}
    for start in range(0, len(keys), 500):
        query = (User.objects.select_related("profile").annotate(key=Lower("username"))
                 .filter(key__in=keys[start:start + 500]))
        if lock:
            # In user-name order, so that two imports naming the same accounts take them in turn.
            query = query.select_for_update(of=("self",)).order_by("username")
        for user in query:
            found.setdefault(user.username.lower(), user)
    return found


def _phone_of(user) -> str:
    profile = getattr(user, "profile", None)
    return profile.phone if profile is not None else ""


def _state(user) -> list:
    return [user.pk, user.first_name, _phone_of(user), user.is_active]


def _problem(report, row: AccountRow, name: str, message: str) -> None:
    report.problems.append(Problem(row.row, _heading(name), getattr(row, name), message))


def _one_value(report, rows: list[AccountRow], name: str) -> str:
    """The account's name (or phone) as its rows give it: rows that disagree are a problem."""
    given = [(r, getattr(r, name)) for r in rows if getattr(r, name)]
    for row, value in given[1:]:
        if value != given[0][1]:
            _problem(report, row, name, _("Row %(row)s gives this account “%(value)s”.")
                     % {"row": given[0][0].row, "value": given[0][1]})
    return given[0][1] if given else ""


def _distinct_roles(rows: list[AccountRow]) -> list[AccountRow]:
    roles, keys = [], set()
    for row in rows:
        if (row.unit.pk, row.role) not in keys:
            keys.add((row.unit.pk, row.role))
            roles.append(row)
    return roles


def _meanwhile(exc) -> bool:
    # An account the file makes that someone else made after our check: run again, the
    # import then finds it and says so.
    return is_transient(exc) or is_unique_violation(exc)


@atomic(retry_when=_meanwhile)
def users_import(*, campaign: Campaign, actor, data: bytes, filename: str, sheet: str | None = None,
                 reason: str = "", seen: dict | None = None) -> UserImportReport:
    """Apply a sheet: every account and role, or none. Raises UserImportRejected with the report
    on any problem. `seen` (an earlier dry run's) makes an account made or changed since a problem."""
    report = users_prepare(campaign=campaign, actor=actor, data=data, filename=filename, sheet=sheet, lock=True)
    if seen is not None:
        for plan in (*report.new, *report.changed):
            if plan.username in seen and seen[plan.username] != report.seen.get(plan.username):
                report.problems.append(Problem(plan.rows[0], _heading("username"), plan.username, _(
                    "This account was made or changed by someone else since your check; check the file again.")))
    if not report.ok:
        raise UserImportRejected(report)
    reason = " ".join(reason.split()) or _("import of %(file)s") % {"file": filename}
    for plan in report.new:
        password = temporary_password()
        user_create(actor=actor, username=plan.username, name=plan.name, phone=plan.phone, password=password,
                    memberships=[(r.unit, r.role) for r in plan.roles], reason=reason)
        report.passwords[plan.username] = password
    for plan in report.changed:
        if plan.diffs:
            user_update(actor=actor, user_id=plan.user_id, name=plan.name or None, phone=plan.phone or None,
                        reason=reason)
        for role in plan.roles:
            membership_add(actor=actor, user_id=plan.user_id, unit=role.unit, role=role.role, reason=reason)
    report.applied = True
    return report


def user_upload_keep(*, campaign: Campaign, actor, filename: str, data: bytes,
                     report: UserImportReport) -> UserImportUpload:
    """Keep a sheet from its dry run until it is applied, with the accounts as the dry run saw them.
    Sheets are kept for UPLOAD_KEPT: older ones are dropped on the way."""
    UserImportUpload.objects.filter(uploaded_at__lt=timezone.now() - UPLOAD_KEPT).delete()
    return UserImportUpload.objects.create(campaign=campaign, user=actor, filename=filename, data=data,
                                           seen=report.seen)


@atomic(retry_when=_meanwhile)
def user_upload_apply(*, upload_id, actor, reason: str = "") -> UserImportReport:
    """Apply a kept sheet once. Raises UserImportUpload.DoesNotExist when it is not the actor's or
    was applied already, UserImportRejected on problems. Claimed inside the import's transaction:
    of two clicks at once, the second finds it applied. Its bytes are dropped once applied."""
    upload = (UserImportUpload.objects.select_for_update()
              .get(pk=upload_id, user=actor, applied_at=None, uploaded_at__gte=timezone.now() - UPLOAD_KEPT))
    report = users_import(campaign=upload.campaign, actor=actor, data=bytes(upload.data), filename=upload.filename,
                          reason=reason, seen=upload.seen)
    UserImportUpload.objects.filter(pk=upload.pk).update(applied_at=timezone.now(), data=b"")
    return report
