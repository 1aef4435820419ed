"""What every page's header needs: the campaigns to switch between, and whether to link the
campaign's change log."""

from django.utils.functional import SimpleLazyObject

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may_in_campaign

from .selectors import current_campaign, user_campaigns


def campaigns(request) -> dict:
    """`campaign_switch`: the user's campaigns (`choices`, when there is more than one) and
    the one pages show now (`current`). Lazy, and asked once per request with the view's
    own `current_campaign`."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def switch():
        found = user_campaigns(request)
        if len(found) < 2:
            return {"choices": [], "current": None}
        return {"choices": found, "current": current_campaign(request).pk}

    def reads_history() -> bool:
        return bool(user_campaigns(request)) and may_in_campaign(user, current_campaign(request), Action.HISTORY_READ)

    return {"campaign_switch": SimpleLazyObject(switch), "reads_history": reads_history}
