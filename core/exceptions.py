"""Domain errors. Each carries a machine ``code`` and, where one applies, the rule id."""
from __future__ import annotations


class DomainError(Exception):
    """A rule was broken: the API answers 400 with {code, detail, rule, fields}."""

    status_code = 400
    default_code = "rule_violation"

    def __init__(self, detail: str, *, code: str | None = None, rule: str | None = None,
                 fields: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.rule = rule
        self.fields = fields

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "detail": self.detail}
        if self.rule:
            body["rule"] = self.rule
        if self.fields:
            body["fields"] = self.fields
        return body

    def __str__(self) -> str:
        return self.detail  # words only: the rule id travels in ``rule``


class TransitionNotAllowed(DomainError):
    """The transition is not allowed from the current state (409)."""

    status_code = 409
    default_code = "transition_not_allowed"


class PermissionDeniedError(DomainError):
    """The role or organisation may not do this (403)."""

    status_code = 403
    default_code = "permission_denied"


class ConflictError(DomainError):
    status_code = 409
    default_code = "conflict"
