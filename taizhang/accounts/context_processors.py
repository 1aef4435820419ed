from .lockout import may_unlock


def lockout(request):
    """`may_unlock` for the header's link to the locked accounts; worked out only when used."""
    return {"may_unlock": lambda: may_unlock(request.user)}
