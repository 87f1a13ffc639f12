"""Categories and boards, managed by admins."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum import policies
from forum.models import Board, Category, User
from forum.services import validation
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.text.slugs import slugify


def _require_admin(actor: User | None) -> None:
    if actor is not None and not policies.can_manage_boards(actor):
        raise PermissionDenied("Only admins manage boards.")


def create_category(session: Session, actor: User | None, name: str) -> Category:
    """``actor`` None means the command line (trusted)."""
    _require_admin(actor)
    name = validation.clean_line(name, "name", "The name", 80)
    if not name:
        raise ValidationError({"name": "Please give the category a name."})
    position = (session.scalar(select(func.max(Category.position))) or 0) + 1
    category = Category(name=name, position=position)
    session.add(category)
    session.commit()
    return category


def save_board(
    session: Session,
    actor: User | None,
    *,
    category_id: int,
    name: str,
    description: str = "",
    slug: str = "",
    members_only: bool = False,
    position: int | None = None,
    board: Board | None = None,
) -> Board:
    """Create a board, or update ``board`` when given."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    try:
        name = validation.clean_line(name, "name", "The name", 80)
        if not name:
            errors["name"] = "Please give the board a name."
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        description = validation.clean_line(description, "description", "The description", 500)
    except ValidationError as exc:
        errors.update(exc.errors)
    slug = slugify(slug or name or "", fallback="")
    if not slug:
        errors.setdefault("slug", "The address needs at least one letter or digit.")
    if session.get(Category, category_id) is None:
        errors["category_id"] = "Choose an existing category."
    clash = session.scalar(select(Board).where(Board.slug == slug))
    if clash is not None and clash is not board:
        errors["slug"] = f"Another board already uses the address /b/{slug}."
    if errors:
        raise ValidationError(errors)

    if board is None:
        if position is None:
            position = (
                session.scalar(
                    select(func.max(Board.position)).where(Board.category_id == category_id)
                )
                or 0
            ) + 1
        board = Board()
        session.add(board)
    board.category_id = category_id
    board.name = name
    board.description = description
    board.slug = slug
    board.members_only = members_only
    if position is not None:
        board.position = position
    session.commit()
    return board


def get_board(session: Session, slug: str) -> Board:
    board = session.scalar(select(Board).where(Board.slug == slug))
    if board is None:
        raise NotFound("No board at that address.")
    return board
