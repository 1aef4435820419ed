"""Login lockout: where a login comes from, which accounts are locked, and unlocking one.

django-axes counts failed logins per (user name, client address) and locks that pair
for AXES_COOLOFF_TIME; this module gives axes the client's address and lets the HQ
office see and lift the locks on the accounts of its campaigns.
"""

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.core.changelog import Change, changelog_append
from taizhang.core.errors import ServiceError

from .models import Membership
from .permissions import ALLOWED, Action


def client_ip(request) -> str | None:
    """The address a login came from (axes' AXES_CLIENT_IP_CALLABLE).

    Behind N trusted proxies (TAIZHANG_BEHIND_PROXY=N), each appends the address it
    saw to X-Forwarded-For, so the client is the N-th entry from the right; anything
    further left was written by the client and proves nothing. Without a proxy the
    header is ignored: a client could fill it with any address to dodge its lock.
    """
    proxies = settings.TAIZHANG_BEHIND_PROXY
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


@dataclass(frozen=True)
class LockedAccount:
    """A user with at least one locked (user name, address) pair."""

    user_id: int
    username: str
    addresses: list[str]
    failures: int
    last_failure: datetime

    @property
    def locked_until(self) -> datetime:
        return self.last_failure + settings.AXES_COOLOFF_TIME


def unlockable_users(user):
    """Accounts `user` may unlock: members of the campaigns where it is in the HQ office."""
    users = get_user_model().objects.all()
    if user.is_active and user.is_superuser:
        return users
    # The campaigns where the user keeps the books (the access rule's table, not a role named here).
    campaigns = Membership.objects.filter(user=user, role__in=ALLOWED[Action.KEEP_BOOKS].roles).values(
        "unit__campaign_id")
    return users.filter(memberships__unit__campaign_id__in=campaigns).distinct()


def locked_accounts(user) -> list[LockedAccount]:
    """The accounts `user` may unlock that are locked now, from any address."""
    recent = timezone.now() - settings.AXES_COOLOFF_TIME
    pairs = (AccessAttempt.objects.filter(attempt_time__gte=recent)
             .values("username", "ip_address")
             .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
             .filter(failures__gte=settings.AXES_FAILURE_LIMIT))
    by_name: dict[str, list[dict]] = {}
    for pair in pairs:
        by_name.setdefault(pair["username"], []).append(pair)
    users = unlockable_users(user).filter(username__in=by_name).order_by("username")
    return [LockedAccount(
        user_id=u.pk, username=u.username,
        addresses=sorted(p["ip_address"] or "?" for p in by_name[u.username]),
        failures=sum(p["failures"] for p in by_name[u.username]),
        last_failure=max(p["last"] for p in by_name[u.username]),
    ) for u in users]


class UnlockError(ServiceError):
    """An unlock that cannot be done, with a message for the user."""


@transaction.atomic
def account_unlock(*, actor, user_id: int) -> LockedAccount:
    """Lift every lock on one account (from all addresses) and log who did it."""
    # The account's row first: two offices unlocking it at once take turns, and the second is told.
    get_user_model().objects.select_for_update().filter(pk=user_id).first()
    account = next((a for a in locked_accounts(actor) if a.user_id == user_id), None)
    if account is None:
        raise UnlockError(_("This account is not locked (any more)."))
    reset(username=account.username)
    changelog_append(changes=[Change(
        "accounts.lockout", str(account.user_id), account.username, "delete",
        {"addresses": account.addresses, "failures": account.failures,
         "last_failure": account.last_failure.isoformat()}, None)],
        actor=actor, reason="unlock")
    return account
