"""Every write of the projects app. Keyword-only, typed, one transaction each.

The milestone services (deposits, review, release, forfeit, close) live in
the package ``projects.milestones``.
"""
from .approval import approval_outcome, notice_counter_lock, project_approve, project_queue, project_reject
from .attachments import attachment_add, store_attachment
from .proposals import (
    project_accept,
    project_create,
    project_platform_decline,
    project_platform_sign,
    project_return_for_changes,
    project_submit,
    project_update,
    project_validate,
)
from .reviews import experts_draw, project_start_review, review_declare_conflict, review_submit

__all__ = [
    "project_create", "project_update", "project_submit", "project_validate", "project_platform_sign",
    "project_platform_decline", "project_accept", "project_return_for_changes", "project_start_review",
    "experts_draw", "review_submit", "review_declare_conflict", "project_approve", "project_queue",
    "project_reject", "notice_counter_lock", "approval_outcome", "attachment_add",
    "store_attachment",
]
