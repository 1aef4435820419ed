"""The append-only, hash-chained change log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
