from .scoping import is_hq_office, manages_users


def lockout(request):
    """Whether the header links to the HQ office's pages (locked accounts, the history digest);
    worked out only when used."""
    return {"is_hq_office": lambda: is_hq_office(request.user)}


def user_management(request):
    """Whether the header links to the account pages; worked out only when used."""
    return {"manages_users": lambda: manages_users(request.user)}
