"""Navigation by role and the unread-notice count for the header."""
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .caching import unread_count
from .choices import Role

# (url name, label, roles that see it; empty = everyone signed in)
NAV = [
    ("home", _("工作台"), ()),
    ("projects:list", _("合作项目"), ()),
    ("projects:queue", _("待审队列"), (Role.REVIEWER,)),
    ("projects:my_reviews", _("我的评审"), (Role.EXPERT,)),
    ("escrow:desk", _("监管操作台"), (Role.CUSTODIAN,)),
    ("escrow:pool", _("风险池"), (Role.POOL_MANAGER, Role.REVIEWER, Role.AUDITOR, Role.FINANCE)),
    ("escrow:accounts", _("账户与流水"), (Role.CUSTODIAN, Role.AUDITOR, Role.POOL_MANAGER, Role.REVIEWER)),
    ("subsidies:index", _("资助与补助"), (Role.ENTERPRISE, Role.REVIEWER, Role.FINANCE, Role.AUDITOR)),
    ("reports:index", _("报告与文书"), ()),
    ("dashboards:performance", _("平台绩效"), (Role.REVIEWER, Role.AUDITOR)),
    ("dashboards:case_manage", _("典型案例"), (Role.REVIEWER,)),
    ("cases", _("案例公示"), ()),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    items = []
    for name, label, roles in NAV:
        if roles and not (user.is_superuser or user.has_role(*roles)):
            continue
        try:
            items.append({"url": reverse(name), "label": label, "active": request.path == reverse(name)})
        except NoReverseMatch:
            continue
    return {"nav_items": items, "unread_count": unread_count(user)}
