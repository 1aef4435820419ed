"""Importing accounts from Excel (the HQ office): the dry run, then applying all of it or none."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from taizhang.campaigns.models import Campaign
from taizhang.core.forms import TableUploadForm

from .models import UserImportUpload
from .scoping import user_manager_campaign_ids
from .services import AccountError
from .user_import import UserImportRejected, user_upload_apply, user_upload_keep, users_prepare
from .user_views import require_manager


def _campaign(request) -> Campaign:
    """The campaign whose units the sheet names: the one chosen in the header, if the user
    manages its accounts, else the first it does."""
    ids = user_manager_campaign_ids(request.user)
    campaigns = Campaign.objects.order_by("pk")
    if ids is not None:
        campaigns = campaigns.filter(pk__in=ids)
    campaign = campaigns.filter(pk=request.session.get("campaign_id") or 0).first() or campaigns.first()
    if campaign is None:
        raise Http404("no campaign")
    return campaign


@login_required
def user_import(request):
    require_manager(request)
    campaign = _campaign(request)
    form = TableUploadForm(request.POST or None, request.FILES or None)
    context = {"campaign": campaign, "form": form}
    if request.method == "POST" and form.is_valid():
        data, filename = form.cleaned_data["data"], form.cleaned_data["file"].name
        report = users_prepare(campaign=campaign, actor=request.user, data=data, filename=filename)
        context["upload"] = user_upload_keep(campaign=campaign, actor=request.user, filename=filename, data=data,
                                             report=report)
        context["report"] = report
    return _page(request, context, status=400 if form.errors else 200)


def _page(request, context, status=200):
    """The report alone for htmx; without JavaScript, the whole page with the report in it."""
    if request.method == "POST" and request.htmx:
        return render(request, "accounts/user_import.html#report", context, status=status)
    context.setdefault("form", TableUploadForm())
    return render(request, "accounts/user_import.html", context, status=status)


@require_POST
@login_required
def user_import_apply(request, upload_id):
    require_manager(request)
    try:
        report = user_upload_apply(upload_id=upload_id, actor=request.user, reason=request.POST.get("reason", ""))
    except UserImportUpload.DoesNotExist:
        raise Http404("no such upload") from None
    except UserImportRejected as rejected:
        upload = UserImportUpload.objects.get(pk=upload_id, user=request.user)
        return _page(request, {"campaign": upload.campaign, "report": rejected.report, "upload": upload}, status=400)
    except AccountError as refused:  # a service refused an account meanwhile: nothing was written
        upload = UserImportUpload.objects.get(pk=upload_id, user=request.user)
        return _page(request, {"campaign": upload.campaign, "upload": upload, "refused": str(refused)}, status=409)
    # The temporary passwords are in this answer only: shown once, to be handed over.
    return _page(request, {"campaign": _campaign(request), "report": report})
