"""Managing accounts (the HQ office): the list, an account, its roles, deactivation, password resets;
and every user's own password change.

Who may manage which account is the access rule's (`scoping.users_managed`, Action.USERS_MANAGE):
anyone else gets 403 on these pages, and an account outside the manager's reach 404.
"""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .forms import MembershipAddForm, PasswordResetForm, ReasonForm, UserCreateForm, UserEditForm, UserFilterForm
from .middleware import MUST_CHANGE_PASSWORD
from .models import Membership
from .scoping import manages_users, units_assignable, users_managed
from .selectors import account_history
from .services import (
    AccountError,
    membership_add,
    membership_remove,
    password_change,
    password_reset,
    temporary_password,
    user_create,
    user_deactivate,
    user_reactivate,
    user_update,
)

PAGE_SIZE = 50


def require_manager(request):
    """403 for anyone who manages no accounts (the access table's Action.USERS_MANAGE)."""
    if not manages_users(request.user):
        raise PermissionDenied


def _managed(request, user_id):
    """The account, if the user may manage it (403 for one who manages none, 404 outside their reach)."""
    require_manager(request)
    return get_object_or_404(users_managed(request.user).select_related("profile"), pk=user_id)


def _refused(form, error: AccountError):
    form.add_error(error.field if error.field in form.fields else None, str(error))


@login_required
@require_GET
def user_list(request):
    require_manager(request)
    form = UserFilterForm(request.GET, units=units_assignable(request.user))
    users = form.apply(users_managed(request.user)).order_by("username")
    page = Paginator(users.select_related("profile").prefetch_related(
        Prefetch("memberships", Membership.objects.select_related("unit").order_by("unit__sort", "unit__code"))),
        PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "accounts/users.html#results" if request.htmx else "accounts/users.html"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()},
                  status=400 if form.errors else 200)


def _detail(request, user, *, temporary=None, status=200, **forms):
    context = {
        "account": user, "temporary_password": temporary, "history": account_history(user),
        "memberships": user.memberships.select_related("unit", "unit__campaign").order_by("unit__sort", "unit__code"),
        "membership_form": forms.get("membership_form") or MembershipAddForm(units=units_assignable(request.user)),
        "reset_form": forms.get("reset_form") or PasswordResetForm(), "reason_form": ReasonForm(),
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@login_required
@require_GET
def user_detail(request, user_id):
    return _detail(request, _managed(request, user_id))


@login_required
def user_new(request):
    require_manager(request)
    form = UserCreateForm(request.POST or None, units=units_assignable(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = data["password"] or temporary_password()
        unit = units_assignable(request.user).get(pk=data["unit"])
        try:
            user = user_create(actor=request.user, username=data["username"], name=data["name"], phone=data["phone"],
                               password=password, memberships=[(unit, data["role"])])
        except AccountError as error:
            _refused(form, error)
        else:
            # Shown once, in this answer only: it is kept nowhere but in the account's hash.
            return _detail(request, user, temporary=password, status=201)
    return render(request, "accounts/user_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def user_edit(request, user_id):
    user = _managed(request, user_id)
    initial = {"username": user.username, "name": user.first_name, "phone": getattr(
        getattr(user, "profile", None), "phone", "")}
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(actor=request.user, user_id=user.pk, **form.cleaned_data)
        except AccountError as error:
            _refused(form, error)
        else:
            messages.success(request, _("%(user)s is saved.") % {"user": form.cleaned_data["username"]})
            return redirect("accounts:user", user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "account": user},
                  status=400 if form.errors else 200)


def _act(request, user, service, done: str, **arguments):
    """Run a service on the account; its refusal, or what was done, as a message on its page."""
    try:
        service(actor=request.user, **arguments)
    except AccountError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done % {"user": user.get_username()})
    return redirect("accounts:user", user.pk)


def _reason(request) -> str:
    form = ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


@login_required
@require_POST
def user_deactivate_view(request, user_id):
    user = _managed(request, user_id)
    return _act(request, user, user_deactivate, _("%(user)s is deactivated: the account can no longer log in."),
                user_id=user.pk, reason=_reason(request))


@login_required
@require_POST
def user_reactivate_view(request, user_id):
    user = _managed(request, user_id)
    return _act(request, user, user_reactivate, _("%(user)s may log in again."), user_id=user.pk,
                reason=_reason(request))


@login_required
@require_POST
def user_password_reset(request, user_id):
    user = _managed(request, user_id)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        password = form.cleaned_data["password"] or temporary_password()
        try:
            user = password_reset(actor=request.user, user_id=user.pk, password=password)
        except AccountError as error:
            _refused(form, error)
        else:
            return _detail(request, user, temporary=password)
    return _detail(request, user, reset_form=form, status=400)


@login_required
@require_POST
def user_membership_add(request, user_id):
    user = _managed(request, user_id)
    form = MembershipAddForm(request.POST, units=units_assignable(request.user))
    if form.is_valid():
        unit = units_assignable(request.user).get(pk=form.cleaned_data["unit"])
        try:
            membership_add(actor=request.user, user_id=user.pk, unit=unit, role=form.cleaned_data["role"],
                           is_head=form.cleaned_data["is_head"])
        except AccountError as error:
            _refused(form, error)
        else:
            messages.success(request, _("%(user)s now holds the role.") % {"user": user.get_username()})
            return redirect("accounts:user", user.pk)
    return _detail(request, user, membership_form=form, status=400)


@login_required
@require_POST
def user_membership_remove(request, user_id, membership_id):
    user = _managed(request, user_id)
    get_object_or_404(Membership, pk=membership_id, user=user)
    return _act(request, user, membership_remove, _("The role is taken away from %(user)s."),
                membership_id=membership_id, reason=_reason(request))


@login_required
def password_change_view(request):
    """The user's own new password; the only page open after a reset until it is set."""
    forced = bool(request.session.get(MUST_CHANGE_PASSWORD))
    form = PasswordChangeForm(request.user, request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = password_change(user=request.user, password=form.cleaned_data["new_password1"])
        except AccountError as error:
            _refused(form, error)
        else:
            update_session_auth_hash(request, user)  # this session stays logged in; any other ends
            request.session.pop(MUST_CHANGE_PASSWORD, None)
            messages.success(request, _("Your password is changed."))
            return redirect(next_url or reverse("home"))
    return render(request, "accounts/password_change.html", {"form": form, "forced": forced, "next": next_url},
                  status=400 if form.errors else 200)
