"""Account codes of workflow.md. Other apps build codes here, never by hand."""
from __future__ import annotations

from .choices import AccountKind

POOL_FUNDING = "pool:funding"
POOL_AVAILABLE = "pool:available"
POOL_LOSSES = "pool:losses"
POOL_CODES = (POOL_FUNDING, POOL_AVAILABLE, POOL_LOSSES)


def pool_advanced(project_id: int) -> str:
    return f"pool:advanced:{project_id}"


def custody(project_id: int, milestone_seq: int) -> str:
    return f"custody:{project_id}:{milestone_seq}"


def ext_enterprise(org_id: int) -> str:
    return f"ext:enterprise:{org_id}"


def ext_platform(org_id: int) -> str:
    return f"ext:platform:{org_id}"


def kind_of(code: str) -> str:
    if code == POOL_FUNDING:
        return AccountKind.POOL_FUNDING
    if code == POOL_AVAILABLE:
        return AccountKind.POOL_AVAILABLE
    if code == POOL_LOSSES:
        return AccountKind.POOL_LOSSES
    if code.startswith("pool:advanced:"):
        return AccountKind.POOL_ADVANCED
    if code.startswith("custody:"):
        return AccountKind.CUSTODY
    if code.startswith(("ext:enterprise:", "ext:platform:")):
        return AccountKind.EXTERNAL
    raise ValueError(f"unknown account code {code!r}")


def owner_id_of(code: str) -> int | None:
    if code.startswith(("ext:enterprise:", "ext:platform:")):
        return int(code.rsplit(":", 1)[1])
    return None


def project_id_of(code: str) -> int | None:
    """The project a custody or pool-advance account belongs to (None for the others)."""
    if code.startswith("custody:"):
        return int(code.split(":")[1])
    if code.startswith("pool:advanced:"):
        return int(code.split(":")[2])
    return None
