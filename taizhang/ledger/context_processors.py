"""What every page's header needs: the campaigns to switch between."""

from django.utils.functional import SimpleLazyObject

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

    return {"campaign_switch": SimpleLazyObject(switch)}
