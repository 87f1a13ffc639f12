"""Domain errors that services raise and the web layer maps to HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``status`` is the HTTP status the web layer answers with."""

    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Bad input. ``errors`` maps a form field name to its message."""

    status = 400

    def __init__(self, errors: dict[str, str] | str) -> None:
        if isinstance(errors, str):
            errors = {"form": errors}
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
