"""Domain errors. Every refusal in the shop raises one of these with a message a
merchant or customer can read; the outer layers translate them, never swallow them."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business-rule refusal. ``code`` is stable for programs."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(DomainError):
    code = "invalid"


class LimitExceeded(DomainError):
    code = "limit_exceeded"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class OutOfStock(DomainError):
    code = "out_of_stock"
