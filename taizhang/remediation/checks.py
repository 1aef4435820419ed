"""What every remediation service shares: its refusal, the checks that name the field they
refuse, and the row lock a write re-reads its record under."""

import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.core.errors import ServiceError


class RemediationError(ServiceError):
    """A remediation write that is refused; the message says why."""


def label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def refuse(model, field: str, message: str, **params):
    """A ValidationError on `field` whose message starts with the field's name."""
    text = _("%(field)s: %(message)s") % {"field": label(model, field), "message": message % params}
    return ValidationError({field: [text]})


def clean(obj) -> None:
    """full_clean, with each message naming its field."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ValidationError({
            field: [m if field == NON_FIELD_ERRORS else _("%(field)s: %(message)s") % {
                "field": label(type(obj), field), "message": m} for m in messages]
            for field, messages in exc.message_dict.items()}) from exc


def check_day(model, field: str, day, *, after=None, after_what: str = "") -> None:
    """A day that happened: given, not in the future, not before the step it follows."""
    if not isinstance(day, datetime.date):
        raise refuse(model, field, _("a date is needed."))
    if day > timezone.localdate():
        raise refuse(model, field, _("cannot be in the future."))
    if after is not None and day < after:
        raise refuse(model, field, _("cannot be before %(what)s (%(day)s)."), what=after_what, day=after.isoformat())


def lock(model, pk: int):
    """The row re-read under a lock, so that two people recording the same step take turns.

    FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE transactions already serialize writers.
    """
    return model.objects.select_for_update(of=("self",)).select_related("target").get(pk=pk)
