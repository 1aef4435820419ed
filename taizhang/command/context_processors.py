"""Whether the header links the command room: for anyone taking part in a campaign."""

from taizhang.ledger.selectors import user_campaigns


def command(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"sees_command": lambda: bool(user_campaigns(request))}
