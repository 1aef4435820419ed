from .notifications import unread_count


def notifications(request):
    """The header's unread count; one query, and only on pages that show it."""
    user = getattr(request, "user", None)
    return {"unread_notifications": lambda: unread_count(user) if user is not None and user.is_authenticated else 0}
