"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm

from forum.queries import PageOutOfRange
from forum.services.errors import NotFound, ValidationError

MAX_PAGE = 1_000_000
# Row ids are at most a signed 32-bit integer on every database Cairn runs on.
ID_MAX = 2**31 - 1


def page_arg(name: str = "page") -> int:
    """The page number from the query string; a clear 404 for anything that isn't one."""
    raw = request.args.get(name, "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not 1 <= int(raw) <= MAX_PAGE:
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


def bounded_ids(endpoint: str | None, values: dict | None) -> None:
    """A 404 for ids in the URL too large to be ours, before they overflow a query."""
    if values and any(isinstance(v, int) and v > ID_MAX for v in values.values()):
        raise NotFound("There is nothing at that address.")
