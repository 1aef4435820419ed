"""Notifications: the in-app centre, the e-mails users chose, and the webhooks the caller names.

A room above calls `notify` with a key that says what the notification is about and when
("order:12:remind:-1d"). The same key is never notified twice to the same user nor sent twice
to the same address or webhook: a sweep that runs again, or two that run at once, create
nothing new (INSERT … ON CONFLICT DO NOTHING under the unique constraints). Deliveries out of
the site are sent later, by the `deliveries` sweep (core/deliveries.py), never inside the
caller's transaction.

Notifications are the users' mailbox, not the ledger: they are not written to the change log.
What caused one (an order issued, a deadline passed) is logged by the service that did it.

Core does not know what the kinds mean: each room registers its own with a label
(`kind_register`) so that the e-mail choices page can offer them.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .bulk import insert_rows
from .db import atomic
from .errors import ServiceError
from .models import Delivery, EmailChoice, Notification

TITLE_MAX = Notification._meta.get_field("title").max_length
DELIVERY_FIELDS = ["key", "channel", "destination", "notification", "payload", "state", "attempts", "next_try_at",
                   "last_error", "created_at", "sent_at"]


@dataclass(frozen=True)
class Kind:
    """A kind of notification a room sends, as the e-mail choices page offers it."""

    code: str
    label: str
    # Whether it reaches a user by e-mail before they choose.
    email_default: bool = False


_KINDS: dict[str, Kind] = {}


def kind_register(code: str, label, *, email_default: bool = False) -> Kind:
    """Declare a kind of notification (from the room's AppConfig.ready); `label` may be lazy."""
    kind = Kind(code, label, email_default)
    if _KINDS.get(code, kind) != kind:
        raise ValueError("notification kind %r is already registered differently" % code)
    _KINDS[code] = kind
    return kind


def kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)


def site_link(url: str) -> str:
    """A path on the site as a link that works outside it (an e-mail, a group chat), when
    TAIZHANG_SITE_URL says where the site is; the path alone otherwise."""
    base = getattr(settings, "TAIZHANG_SITE_URL", "")
    if url.startswith("/") and base:
        return base.rstrip("/") + url
    return url


def is_web_url(url: str) -> bool:
    """Only http(s): a webhook is posted to from the server, so file:, ftp: and the like are never followed."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@dataclass(frozen=True)
class Notice:
    """One thing to tell `recipients` (users) about, once per `key` (see `notify`)."""

    recipients: tuple
    kind: str
    title: str
    key: str
    body: str = ""
    url: str = ""
    webhooks: tuple = ()


def notify(*, recipients: Iterable, kind: str, title: str, body: str = "", url: str = "", key: str,
           webhooks: Iterable[str] = (), now=None) -> int:
    """Tell `recipients` (users) about something, once per `key`; returns how many were new.

    Each active recipient gets one notification in the centre; those who chose this kind by
    e-mail (and have an address) get one e-mail; each of `webhooks` (the caller's units'
    group robots, http(s) only) gets one post. A webhook that is not an http(s) URL is
    recorded as failed at once, so the office sees it rather than it being dropped.
    """
    return notify_many([Notice(tuple(recipients), kind, title, key, body, url, tuple(webhooks))], now=now)


@atomic
def notify_many(notices: Iterable[Notice], *, now=None) -> int:
    """`notify` for many notices at once (a sweep's), in a few queries whatever their number;
    returns how many notifications were new."""
    notices = list(notices)
    unknown = {n.kind for n in notices} - set(_KINDS)
    if unknown:
        raise ValueError("unknown notification kind %r: register it with kind_register" % sorted(unknown)[0])
    now = now or timezone.now()
    notices = [replace(n, title=n.title[:TITLE_MAX - 1] + "…") if len(n.title) > TITLE_MAX else n for n in notices]
    users = {user.pk: user for n in notices for user in n.recipients if user.is_active}
    keys = {n.key for n in notices}
    known = set(Notification.objects.filter(key__in=keys, recipient_id__in=users).values_list("recipient_id", "key"))
    new = [{"recipient": user.pk, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url, "key": n.key}
           for n in notices for user in dict.fromkeys(n.recipients)
           if user.is_active and (user.pk, n.key) not in known]
    # ON CONFLICT DO NOTHING: another process notifying the same key meanwhile is not an error.
    # Written by core.bulk: a sweep's thousands of rows through the ORM's compiler took seconds.
    insert_rows(Notification, new, ["recipient", "kind", "title", "body", "url", "key"],
                constants={"created_at": now, "read_at": None}, ignore_conflicts=True)
    deliveries = _emails(notices, users, now) + [post for n in notices for post in _posts(n, now)]
    # Read by attname: `d.notification` would fetch each notification row again.
    insert_rows(Delivery, [{name: getattr(d, Delivery._meta.get_field(name).attname) for name in DELIVERY_FIELDS}
                           for d in deliveries], DELIVERY_FIELDS, ignore_conflicts=True)
    return len(new)


def _emails(notices: list[Notice], users: dict, now) -> list[Delivery]:
    """An e-mail for each active recipient with an address who chose the notice's kind by mail."""
    kinds = {n.kind for n in notices}
    chosen = {(user_id, kind): by_email for user_id, kind, by_email in EmailChoice.objects.filter(
        user_id__in=users, kind__in=kinds).values_list("user_id", "kind", "by_email")}
    wanted = [(n, user) for n in notices for user in dict.fromkeys(n.recipients)
              if user.is_active and user.email.strip() and chosen.get((user.pk, n.kind), _KINDS[n.kind].email_default)]
    if not wanted:
        return []
    notes = {(recipient, key): pk for recipient, key, pk in Notification.objects.filter(
        key__in={n.key for n, _user in wanted}, recipient_id__in={user.pk for _n, user in wanted}).values_list(
        "recipient_id", "key", "pk")}
    return [Delivery(key=n.key, channel=Delivery.Channel.EMAIL, destination=user.email.strip(),
                     notification_id=notes.get((user.pk, n.key)),
                     payload={"subject": n.title, "body": "\n\n".join(part for part in (n.body, site_link(n.url))
                                                                        if part)},
                     next_try_at=now, created_at=now) for n, user in wanted]


def _posts(notice: Notice, now) -> list[Delivery]:
    # The group-robot format of 政务微信 / 企业微信 and 钉钉 alike: a text message.
    key = notice.key
    content = "\n".join(part for part in (notice.title, notice.body, site_link(notice.url)) if part)
    posts = []
    for hook in dict.fromkeys(h.strip() for h in notice.webhooks if h and h.strip()):
        ok = is_web_url(hook)
        posts.append(Delivery(
            key=key, channel=Delivery.Channel.WEBHOOK, destination=hook,
            payload={"msgtype": "text", "text": {"content": content}},
            state=Delivery.State.PENDING if ok else Delivery.State.FAILED,
            last_error="" if ok else _("Not an http(s) URL; nothing was sent."), next_try_at=now, created_at=now))
    return posts


def unread_count(user) -> int:
    """The header's number: one query on the recipient's unread index."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_read(*, notification: Notification, now=None) -> bool:
    """Mark one notification read (the caller found it among the user's own); False if it already was."""
    now = now or timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.refresh_from_db(fields=["read_at"])
    return changed == 1


def notifications_read_all(*, user, now=None) -> int:
    """Mark every unread notification of `user` read; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now or timezone.now())


def email_kinds(user) -> set[str]:
    """The kinds that reach `user` by e-mail: their choices, and each kind's default where they made none."""
    chosen = dict(EmailChoice.objects.filter(user=user).values_list("kind", "by_email"))
    return {k.code for k in kinds() if chosen.get(k.code, k.email_default)}


@atomic
def email_choices_set(*, user, by_email: Iterable[str]) -> set[str]:
    """Record which registered kinds reach `user` by e-mail (every other one does not)."""
    wanted = set(by_email)
    unknown = wanted - set(_KINDS)
    if unknown:
        raise ServiceError(_("Unknown kind of notification: %(kinds)s.") % {"kinds": ", ".join(sorted(unknown))})
    EmailChoice.objects.bulk_create(
        [EmailChoice(user=user, kind=code, by_email=code in wanted) for code in _KINDS],
        update_conflicts=True, unique_fields=["user", "kind"], update_fields=["by_email"])
    return email_kinds(user)
