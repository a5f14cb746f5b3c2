from __future__ import annotations

from datetime import date
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import uscc
from .chain import Sealed, seal_once_trigger, sealed_constraints, sealed_indexes
from .choices import ExpertCategory, OrgKind, Role
from .money import MoneyField
from .notices import render as render_notice


def validate_uscc(value: str) -> None:
    if not uscc.is_valid(value):
        raise ValidationError(
            _("统一社会信用代码无效（GB 32100-2015 校验失败）: %(code)s"),
            code="invalid_uscc",
            params={"code": value},
        )


class Organization(models.Model):
    kind = models.CharField(_("类型"), max_length=16, choices=OrgKind.choices)
    name = models.CharField(_("名称"), max_length=200, unique=True)
    district = models.CharField(_("所在区"), max_length=50, default="萧山区")
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc])
    blacklisted = models.BooleanField(_("黑名单"), default=False, editable=False)
    # R1 made exact: the bureau keeps the list of the district's science & innovation platforms.
    district_platform = models.BooleanField(_("本区科创平台"), default=False,
                                            help_text=_("由区科技局认定；只有本区科创平台可以揭榜"))

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["kind", "name"]

    def clean(self):
        # Before the uniqueness check of full_clean (forms, admin): a lower-case duplicate is a duplicate.
        self.uscc = uscc.normalise(self.uscc)

    def save(self, *args, **kwargs):
        self.uscc = uscc.normalise(self.uscc)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person. Acts only inside their organisation; roles are Django groups named by Role."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("所属组织"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="users",
    )
    expert_category = models.CharField(_("专家类别"), max_length=16, choices=ExpertCategory.choices, blank=True)  # R16, I17
    # The language e-mails reach the user in: the last one picked with the site's language switch.
    language = models.CharField(_("语言"), max_length=16, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @cached_property
    def roles(self) -> frozenset[str]:
        from .caching import user_roles

        return user_roles(self)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in sorted(self.roles) if r in Role.values]


class SchemeVersion(models.Model):
    """Every parameter of the scheme, versioned by validity date (R19). Versions never overlap."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    min_net_funding = MoneyField(_("最低合作经费（不含设备）"), default="3000000.00")  # R2
    min_deposit_ratio = models.DecimalField(_("最低保证金比例"), max_digits=5, decimal_places=4, default="0.1000")  # R5/R7
    max_milestone_months = models.PositiveSmallIntegerField(_("单个里程碑最长月数"), default=12)  # R7
    pool_first_tranche = MoneyField(_("风险池首期规模"), default="100000000.00")  # R3/I1
    grant_rate = models.DecimalField(_("资助比例"), max_digits=5, decimal_places=4, default="0.3000")  # R11
    grant_cap = MoneyField(_("每家企业每年资助上限"), default="3000000.00")  # R11
    premium_rate = models.DecimalField(_("保费补助比例"), max_digits=5, decimal_places=4, default="0.8000")  # R9
    premium_cap = MoneyField(_("保费补助上限"), default="500000.00")  # R9/I6
    reviews_required = models.PositiveSmallIntegerField(_("立项所需专家评审数"), default=3)  # R13
    milestone_reviews_required = models.PositiveSmallIntegerField(_("里程碑验收所需专家评审数"), default=0)  # R16
    dual_control_threshold = MoneyField(_("双人复核金额阈值"), default="1000000.00")
    balance_grace_days = models.PositiveSmallIntegerField(_("尾款缴纳宽限天数"), default=30)  # I15

    class Meta:
        verbose_name = _("政策版本")
        verbose_name_plural = _("政策版本")
        ordering = ["valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="scheme_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        others = SchemeVersion.objects.exclude(pk=self.pk)
        end = self.valid_to or date.max
        overlapping = others.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from),
                                    valid_from__lte=end)
        if overlapping.exists():
            raise ValidationError(_("政策版本的有效期不得重叠: %(names)s"),
                                  params={"names": ", ".join(o.name for o in overlapping)})

    @classmethod
    def active_on(cls, day: date) -> SchemeVersion | None:
        return (cls.objects.filter(valid_from__lte=day)
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day)).first())

    @classmethod
    def current(cls) -> SchemeVersion | None:
        return cls.active_on(timezone.localdate()) or cls.objects.order_by("-valid_from").first()


class AuditEvent(Sealed):
    """Who did what, when, from which state to which, and why. Append-only; sealed into the trail's hash
    chain (core.chain, docs/trail.md)."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("操作人"))
    action = models.CharField(_("动作"), max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    from_state = models.CharField(_("原状态"), max_length=32, blank=True)
    to_state = models.CharField(_("新状态"), max_length=32, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"]), *sealed_indexes("audit_event")]
        constraints = sealed_constraints("audit_event")
        triggers = [seal_once_trigger("audit_event_append_only")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.from_state}→{self.to_state}"


class ChainHead(models.Model):
    """The last sealed row of a hash chain; sealing locks this row (core.chain.seal)."""

    name = models.CharField(max_length=32, unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("哈希链头")
        verbose_name_plural = _("哈希链头")

    def __str__(self) -> str:
        return f"{self.name} #{self.seq} {self.hash[:12]}"


class BlacklistEntry(models.Model):
    """History of the blacklist (R17): every listing and lifting, with reason and evidence."""

    class Action(models.TextChoices):
        ADD = "add", _("列入黑名单")
        LIFT = "lift", _("移出黑名单")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="blacklist_history")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.TextField(_("原因"))
    evidence = models.FileField(_("证据"), upload_to="blacklist/%Y/", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("黑名单记录")
        verbose_name_plural = _("黑名单记录")
        ordering = ["at", "pk"]


class Notification(models.Model):
    """An in-app notice for one user about a step that waits on them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now)
    verb = models.CharField(max_length=64)
    # The notice in the default language when written: what older rows (written before ``msg``) hold only.
    text = models.TextField()  # quotes the reasons people give, which have no length limit
    msg = models.TextField(blank=True)  # the Chinese source msgid (gettext_noop), rendered when read: core.notices
    params = models.JSONField(default=dict, blank=True)  # its values; translatable ones nested as messages
    url = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def render(self) -> str:
        """The notice in the active language (the reader's request, or the recipient's for e-mail)."""
        return render_notice(self.msg, self.params) if self.msg else self.text

    def __str__(self) -> str:
        return self.render()


class IdempotencyRecord(models.Model):
    """A POST's Idempotency-Key and its first response, stored in the effect's transaction."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]


__all__ = ["Organization", "User", "SchemeVersion", "AuditEvent", "BlacklistEntry", "Notification",
           "IdempotencyRecord", "OrgKind", "Role"]
