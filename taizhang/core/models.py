"""The append-only, hash-chained change log; notifications and their deliveries; the sweeps' runs."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChangeLogEntry(models.Model):
    """One write to a record: who, when, before, after and why, chained to the previous entry."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("user"),
    )
    actor_name = models.CharField(_("user name"), max_length=150, blank=True)
    request_id = models.UUIDField(_("request id"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # The target the record belongs to, as the model's snapshot declaration names it
    # (core.snapshots): a target's page shows its petitions', plans' ... entries beside its
    # own. An index, not content: outside the seal, so entries sealed before it still verify.
    target_id = models.BigIntegerField(_("target"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="changelog_object_idx"),
                   models.Index(fields=["target_id", "id"], name="changelog_target_idx")]
        verbose_name = _("change log entry")
        verbose_name_plural = _("change log")

    def __str__(self):
        return "#%s %s %s" % (self.pk, self.action, self.object_repr)

    def changed_fields(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field whose value differs, by field name.

        Sorted because PostgreSQL's jsonb does not keep the order keys were written in.
        """
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class ChainHead(models.Model):
    """The single row holding the chain's last hash; locking it serialises appends."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    # Entries from this id on are sealed with the key; those before, written before the chain
    # was keyed, with plain SHA-256.
    keyed_from = models.BigIntegerField(default=1)
    # HMAC of (keyed_from, last_id, last_hash) under the key (changelog.head_seal).
    seal = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return "%s@%s" % (self.last_hash[:12], self.last_id)


class Notification(models.Model):
    """A message for one user in the notification centre, created once per (recipient, key)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications", verbose_name=_("recipient"))
    # A short code the calling room gives ("order.remind"); the rooms register theirs
    # (notifications.kind_register) so that the e-mail choices page can name them.
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    # A path on this site (the thing the notification is about).
    url = models.CharField(_("link"), max_length=500, blank=True)
    # What makes it the same notification: a sweep that runs again passes the same key
    # ("order:12:remind:-1d") and creates nothing new.
    key = models.CharField(_("key"), max_length=200)
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key",
                                    violation_error_message=_("This notification was already sent to this user.")),
        ]
        # The header's unread count and the list page both start from the recipient.
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title


class Delivery(models.Model):
    """A notification sent out of the site once: an e-mail to one address or a post to one webhook."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        WEBHOOK = "webhook", _("webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        # Not the acceptance's "failed" (不通过): a message that could not be sent.
        FAILED = "failed", pgettext_lazy("sending", "failed")

    # The notification's key: one event is sent to a destination once, however many
    # recipients share the address and however often the sweep that made it runs.
    key = models.CharField(_("key"), max_length=200)
    channel = models.CharField(pgettext_lazy("sending", "channel"), max_length=16, choices=Channel)
    destination = models.CharField(_("destination"), max_length=500)
    # The e-mail's recipient's notification; none for a webhook (a group's robot, not a user).
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="deliveries", verbose_name=_("notification"))
    # What is sent: {"subject", "body"} for an e-mail, the JSON body for a webhook.
    payload = models.JSONField(_("payload"))
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_try_at = models.DateTimeField(_("next try"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "channel", "destination"], name="delivery_once_per_destination",
                                    violation_error_message=_("This was already sent to this destination.")),
        ]
        # The sender picks due rows by state and time.
        indexes = [models.Index(fields=["state", "next_try_at"], name="delivery_due_idx")]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self):
        return "%s → %s" % (self.key, self.shown_destination)

    @property
    def shown_destination(self) -> str:
        """The destination as a page or a log shows it: a robot's URL without its query, which
        holds the robot's access token."""
        if self.channel == self.Channel.WEBHOOK:
            return self.destination.split("?", 1)[0]
        return self.destination


class EmailChoice(models.Model):
    """Whether a user wants one kind of notification by e-mail as well (a row only where they chose)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_choices",
                             verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=64)
    by_email = models.BooleanField(_("by e-mail"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="email_choice_once_per_kind",
                                    violation_error_message=_("This user already chose for this kind.")),
        ]
        verbose_name = _("e-mail choice")
        verbose_name_plural = _("e-mail choices")

    def __str__(self):
        return "%s %s %s" % (self.user_id, self.kind, self.by_email)


class SweepLease(models.Model):
    """One row per sweep: when it is next due, and who runs it now (so that only one does)."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    next_due_at = models.DateTimeField(_("next due"))
    # A run's token while it runs; the lease lapses at held_until, so a worker that died
    # mid-run does not stop the sweep for ever.
    held_by = models.CharField(max_length=64, blank=True)
    held_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name


class SweepRun(models.Model):
    """One run of a sweep: when, how it ended, what it did or why it failed."""

    class State(models.TextChoices):
        RUNNING = "running", _("running")
        OK = "ok", _("done")
        FAILED = "failed", pgettext_lazy("run", "failed")

    name = models.CharField(_("sweep"), max_length=64)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.RUNNING)
    # What the sweep's function returned: counts by name ({"sent": 3, "failed": 1}).
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["name", "started_at"], name="sweeprun_name_idx")]
        verbose_name = _("sweep run")
        verbose_name_plural = _("sweep runs")

    def __str__(self):
        return "%s %s" % (self.name, self.started_at)
