"""Demo organisations and users (README). Codes carry valid GB 32100-2015 check characters."""
from __future__ import annotations

from datetime import date

from core import uscc
from core.choices import ExpertCategory, OrgKind, Role

DEMO_PASSWORD = "anxinbao-demo"


def code(body17: str) -> str:
    return uscc.complete(body17)


ORGANIZATIONS = [
    # key, kind, name, 17-character body of the USCC
    ("ent1", OrgKind.ENTERPRISE, "杭州萧山智能装备有限公司", "91330109MA2H3K4L0"),
    ("ent2", OrgKind.ENTERPRISE, "杭州湘湖新材料科技有限公司", "91330109MA2J5N6P1"),
    ("plat1", OrgKind.PLATFORM, "浙大杭州国际科创中心", "12330100MB1A2B3C4"),
    ("plat2", OrgKind.PLATFORM, "湘湖实验室", "12330109MB0D5E6F7"),
    ("insurer", OrgKind.INSURER, "中国人民财产保险股份有限公司杭州市萧山支公司", "91330109704200123"),
    ("custodian", OrgKind.CUSTODIAN, "杭州萧山农村商业银行股份有限公司（安心宝监管）", "91330100143012345"),
    ("bureau", OrgKind.BUREAU, "杭州市萧山区科学技术局", "11330109002501234"),
    ("finance", OrgKind.FINANCE, "杭州市萧山区财政局", "11330109002505678"),
    ("auditor", OrgKind.AUDITOR, "浙江天衡会计师事务所（特殊普通合伙）", "91330000MA27U0012"),
    ("experts", OrgKind.EXPERT, "萧山区科技专家库", "12330109MB2X3Y4W5"),
]

USERS = [
    # username, organisation key, roles, display name, superuser
    ("enterprise", "ent1", [Role.ENTERPRISE], "企业用户（智能装备）", False),
    ("enterprise2", "ent2", [Role.ENTERPRISE], "企业用户（新材料）", False),
    ("platform", "plat1", [Role.PLATFORM], "平台用户（浙大科创中心）", False),
    ("platform2", "plat2", [Role.PLATFORM], "平台用户（湘湖实验室）", False),
    ("reviewer", "bureau", [Role.REVIEWER], "科技局审核员", False),
    ("expert1", "experts", [Role.EXPERT], "技术专家", False),
    ("expert2", "experts", [Role.EXPERT], "投资专家", False),
    ("expert3", "experts", [Role.EXPERT], "财务专家", False),
    ("expert4", "experts", [Role.EXPERT], "技术专家（备选）", False),
    ("custodian", "custodian", [Role.CUSTODIAN], "监管操作员甲", False),
    ("custodian2", "custodian", [Role.CUSTODIAN], "监管操作员乙", False),
    ("poolmanager", "bureau", [Role.POOL_MANAGER], "风险池管理员", False),
    ("auditor", "auditor", [Role.AUDITOR], "审计人员", False),
    ("finance", "finance", [Role.FINANCE], "财政局经办人", False),
    ("admin", None, [], "系统管理员", True),
]

# R1 made exact: the bureau recognises these demo platforms as the district's own.
DISTRICT_PLATFORMS = {"plat1", "plat2"}
# A platform of another district: shown in the organisations list, refused as a partner (R1).
OUTSIDE_PLATFORM = (OrgKind.PLATFORM, "余杭区城西科创中心（非本区平台）", "12330110MB0G7H8J9", "余杭区")
# I17: the expert pool's make-up.
EXPERT_CATEGORIES = {"expert1": ExpertCategory.TECHNICAL, "expert2": ExpertCategory.INVESTMENT,
                     "expert3": ExpertCategory.FINANCIAL, "expert4": ExpertCategory.TECHNICAL}
RENEWAL_2026 = ("萧山区科创安心宝 2026 续期版", date(2026, 3, 9), date(2027, 3, 8))


def apply_demo_attributes(orgs: dict) -> None:
    """What the bureau keeps about the demo's organisations and experts (R1, I17); idempotent."""
    from core.models import Organization, User

    Organization.objects.filter(pk__in=[orgs[k].pk for k in DISTRICT_PLATFORMS]).update(district_platform=True)
    for key in DISTRICT_PLATFORMS:
        orgs[key].district_platform = True
    for username, category in EXPERT_CATEGORIES.items():
        User.objects.filter(username=username).update(expert_category=category)


def outside_platform():
    from core.models import Organization

    kind, name, body, district = OUTSIDE_PLATFORM
    org, _created = Organization.objects.get_or_create(
        name=name, defaults={"kind": kind, "uscc": code(body), "district": district, "district_platform": False})
    return org


def scheme_renewal(base):
    """I16: the 2026 renewal of the trial, with the same figures as ``base``; idempotent."""
    from django.forms.models import model_to_dict

    from core.models import SchemeVersion

    name, valid_from, valid_to = RENEWAL_2026
    figures = {k: v for k, v in model_to_dict(base).items() if k not in ("id", "name", "valid_from", "valid_to")}
    scheme, _created = SchemeVersion.objects.get_or_create(
        name=name, defaults={**figures, "valid_from": valid_from, "valid_to": valid_to})
    return scheme
