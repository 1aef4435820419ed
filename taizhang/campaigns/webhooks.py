"""The org units' group-chat robots: where a room above posts a unit's notifications.

A caller resolves the units a notification concerns to their robots (`webhook_urls`) and
passes them to `core.notifications.notify(webhooks=...)`. The URL holds the robot's access
token, so, like a password, it is kept out of the change log and out of the preset file.
"""

import logging

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError

from .models import OrgUnit

logger = logging.getLogger(__name__)


def webhook_urls(units) -> list[str]:
    """The robots of `units` (OrgUnit objects), in order, each once; units without one are skipped."""
    return list(dict.fromkeys(unit.webhook_url for unit in units if unit.webhook_url))


@atomic
def unit_webhook_set(*, unit: OrgUnit, url: str) -> OrgUnit:
    """Give `unit` a group robot (an http(s) URL), or none with a blank `url`."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    unit.webhook_url = url.strip()
    try:
        unit.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        messages = exc.message_dict.get("webhook_url") or exc.messages
        raise ServiceError(_("Group robot webhook: %(problem)s") % {"problem": " ".join(messages)}) from None
    unit.save(update_fields=["webhook_url"])
    logger.info("unit %s (%s): group robot %s", unit.code, unit.campaign_id, "set" if unit.webhook_url else "removed")
    return unit
