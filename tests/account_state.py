"""What a refused change to an account must leave alone (the accounts' `ledger_state`)."""

from django.contrib.auth import get_user_model

from taizhang.accounts.models import Membership, Profile
from taizhang.core.models import ChangeLogEntry


def accounts_state():
    """Every account, profile and membership as stored, and the change log's length."""
    return (list(get_user_model().objects.order_by("pk").values()), list(Profile.objects.order_by("pk").values()),
            list(Membership.objects.order_by("pk").values()), ChangeLogEntry.objects.count())
