"""Every write of the subsidies app, one module per concern.

- ``insurance``: policies, claims, other policies' subsidies (R9, R11, R20, I10–I12)
- ``audits``: the annual evaluation and the acceptance opinion (R15, I5, I18)
- ``runs``: versions of a figure and the year's run (how a recomputation leaves paid figures alone)
- ``grants`` and ``premiums``: the two computations (R11, R9, I6); ``year``: both, for the yearly job
- ``approval`` and ``payment``: the bureau's approval, the finance bureau's payment and recoveries (I10)
- ``_common``: the scheme version of a year (R19), R17, amounts as text
"""
from ._common import scheme_for_year
from .approval import figure_approve
from .audits import audit_opinion, audit_save
from .grants import grant_compute, grant_figure
from .insurance import claim_create, claim_default_loss_year, other_subsidy_create, policy_attach_document, policy_create
from .payment import figure_pay, figure_settlement
from .premiums import premium_compute, premium_figure
from .year import subsidies_prepare_year

__all__ = [
    "policy_create", "claim_create", "other_subsidy_create", "audit_save", "audit_opinion", "grant_compute",
    "premium_compute", "subsidies_prepare_year", "figure_approve", "figure_pay", "grant_figure", "premium_figure",
    "scheme_for_year", "policy_attach_document", "figure_settlement", "claim_default_loss_year",
]
