"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm

from forum.queries import PageOutOfRange
from forum.services.errors import ValidationError

MAX_PAGE = 1_000_000


def page_arg(name: str = "page") -> int:
    """The page number from the query string; a clear 404 for anything that isn't one."""
    raw = request.args.get(name, "1")
    if not raw.isdigit() or len(raw) > 7 or not 1 <= int(raw) <= MAX_PAGE:
        raise PageOutOfRange("Page numbers are whole numbers starting at 1.")
    return int(raw)


def apply_errors(form: FlaskForm, error: ValidationError) -> None:
    """Show a service's validation messages next to the matching form fields."""
    for field_name, message in error.errors.items():
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
        else:
            form.form_errors.append(message)
