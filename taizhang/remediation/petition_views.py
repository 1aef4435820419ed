"""Posts from the petitions part of a target's legal section: record, handle and flag a petition.
Each answers as the legal section's other forms do (legal_views.section_write)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .legal_forms import FlagForm, HandleForm, PetitionForm
from .legal_views import section_write
from .models import Petition
from .petitions import petition_flag, petition_handle, petition_record
from .views import _target


def _petition(request, petition_id):
    petition = get_object_or_404(Petition, pk=petition_id)
    return petition, _target(request, petition.target_id)


@require_POST
@login_required
def petition_add(request, pk):
    target = _target(request, pk)
    return section_write(request, target, PetitionForm(request.POST),
                         lambda d: petition_record(target=target, actor=request.user, **d), _("Petition recorded."))


@require_POST
@login_required
def petition_reply(request, petition_id):
    petition, target = _petition(request, petition_id)
    return section_write(request, target, HandleForm(request.POST),
                         lambda d: petition_handle(petition=petition, actor=request.user, **d), _("Petition updated."))


@require_POST
@login_required
def petition_risk(request, petition_id):
    petition, target = _petition(request, petition_id)
    return section_write(request, target, FlagForm(request.POST),
                         lambda d: petition_flag(petition=petition, actor=request.user, **d),
                         _("Stability-risk flag saved."))
