"""The yearly beat job's work: both computations of a year."""
from __future__ import annotations

from .grants import grant_compute
from .premiums import premium_compute


def subsidies_prepare_year(*, year: int) -> dict:
    """The yearly beat job's work: both computations for ``year``."""
    return {"grants": grant_compute(year=year).as_dict(), "premiums": premium_compute(year=year).as_dict()}
