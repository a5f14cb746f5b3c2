"""Account codes of workflow.md. Other apps build codes here, never by hand."""
from __future__ import annotations

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import AccountKind

POOL_FUNDING = "pool:funding"
POOL_AVAILABLE = "pool:available"
POOL_LOSSES = "pool:losses"
POOL_CODES = (POOL_FUNDING, POOL_AVAILABLE, POOL_LOSSES)

# Prefixes shared by a family of codes: for ``code__startswith`` filters and tests on a code.
POOL = "pool:"
POOL_ADVANCED = "pool:advanced:"
CUSTODY = "custody:"
EXTERNAL = "ext:"
EXT_ENTERPRISE = "ext:enterprise:"
EXT_PLATFORM = "ext:platform:"


def pool_advanced(project_id: int) -> str:
    return f"{POOL_ADVANCED}{project_id}"





def custody(project_id: int, milestone_seq: int) -> str:
    return f"{CUSTODY}{project_id}:{milestone_seq}"


def custody_of_project(project_id: int) -> str:
    """The prefix of every custody account of one project (one per milestone)."""
    return f"{CUSTODY}{project_id}:"


def custody_expression(project_id, milestone_seq) -> Concat:
    """``custody()`` as a database expression, for a query that matches accounts to rows: the arguments are
    expressions (``F("project_id")``, ``OuterRef("seq")``). The same code, built in SQL."""
    return Concat(Value(CUSTODY), Cast(project_id, CharField()), Value(":"), Cast(milestone_seq, CharField()),
                  output_field=CharField())


def ext_enterprise(org_id: int) -> str:
    return f"{EXT_ENTERPRISE}{org_id}"


def ext_platform(org_id: int) -> str:
    return f"{EXT_PLATFORM}{org_id}"


def is_custody(code: str) -> bool:
    return code.startswith(CUSTODY)


def is_external(code: str) -> bool:
    return code.startswith(EXTERNAL)


def is_platform(code: str) -> bool:
    return code.startswith(EXT_PLATFORM)


def is_enterprise(code: str) -> bool:
    return code.startswith(EXT_ENTERPRISE)


def kind_of(code: str) -> str:
    if code == POOL_FUNDING:
        return AccountKind.POOL_FUNDING
    if code == POOL_AVAILABLE:
        return AccountKind.POOL_AVAILABLE
    if code == POOL_LOSSES:
        return AccountKind.POOL_LOSSES
    if code.startswith(POOL_ADVANCED):
        return AccountKind.POOL_ADVANCED
    if is_custody(code):
        return AccountKind.CUSTODY
    if code.startswith((EXT_ENTERPRISE, EXT_PLATFORM)):
        return AccountKind.EXTERNAL
    raise ValueError(f"unknown account code {code!r}")


def owner_id_of(code: str) -> int | None:
    if code.startswith((EXT_ENTERPRISE, EXT_PLATFORM)):
        return int(code.rsplit(":", 1)[1])
    return None


def project_id_of(code: str) -> int | None:
    """The project a custody or pool-advance account belongs to (None for the others)."""
    if is_custody(code):
        return int(code.split(":")[1])
    if code.startswith(POOL_ADVANCED):
        return int(code.split(":")[2])
    return None


def custody_project_id(code: str) -> int | None:
    """The project of a custody account (None for any other code)."""
    parts = code.split(":")
    if len(parts) == 3 and is_custody(code):
        return int(parts[1])
    return None


POOL_NAMES = {POOL_FUNDING: gettext_lazy("风险池·资金来源"), POOL_AVAILABLE: gettext_lazy("风险池·可用余额"),
              POOL_LOSSES: gettext_lazy("风险池·核销损失")}


def account_name(code: str, *, org_names: dict | None = None, project_titles: dict | None = None) -> str:
    """The account in words for people and documents (托管账户·项目·里程碑 2, 企业·名称, 平台·名称), never its code,
    in the active language.

    ``org_names`` maps organisation ids and ``project_titles`` project ids to what they are called; a name not
    given is said as "组织 7" / "项目 19" rather than the code.
    """
    org_names, project_titles = org_names or {}, project_titles or {}
    if code in POOL_NAMES:
        return str(POOL_NAMES[code])
    parts = code.split(":")

    def project(pid: str) -> str:
        return project_titles.get(int(pid)) or _("项目 %(id)s") % {"id": pid}

    if parts[0] == "custody" and len(parts) == 3:
        return _("托管账户·%(project)s·里程碑 %(seq)s") % {"project": project(parts[1]), "seq": parts[2]}
    if parts[:2] == ["pool", "advanced"] and len(parts) == 3:
        return _("风险池·已垫付·%(project)s") % {"project": project(parts[2])}
    if parts[0] == "ext" and len(parts) == 3:
        who = org_names.get(int(parts[2])) or _("组织 %(id)s") % {"id": parts[2]}
        side = _("企业") if parts[1] == "enterprise" else _("平台")
        return f"{side}·{who}"
    return code
