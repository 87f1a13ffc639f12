"""``flask --app wsgi forum …`` commands."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from forum.extensions import db
from forum.models import Category, User
from forum.services import accounts, boards
from forum.services.errors import DomainError

forum_cli = AppGroup("forum", help="Cairn administration commands.")


def _fail(error: DomainError) -> None:
    raise click.ClickException(error.message)


@forum_cli.command("create-user")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["member", "moderator", "admin"]), default="member")
def create_user(username: str, email: str, role: str) -> None:
    """Create an account. The password is read from stdin (piped) or prompted, never argv."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.register(db.session, username, email, password, role=role)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


@forum_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["member", "moderator", "admin"]))
def set_role(username: str, role: str) -> None:
    """Make a member a moderator or admin (or back)."""
    user = accounts.find_by_username(db.session, username)
    if user is None:
        raise click.ClickException(f"No member named {username}.")
    accounts.set_role(db.session, user, role)
    click.echo(f"{user.username} is now {role}.")


@forum_cli.command("create-category")
@click.argument("name")
def create_category(name: str) -> None:
    try:
        category = boards.create_category(db.session, None, name)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created category {category.name} (id {category.id}).")


@forum_cli.command("create-board")
@click.argument("name")
@click.option("--category", "category_name", required=True, help="Category name.")
@click.option("--slug", default="")
@click.option("--description", default="")
@click.option("--members-only", is_flag=True)
def create_board(name: str, category_name: str, slug: str, description: str, members_only: bool) -> None:
    category = db.session.scalar(select(Category).where(Category.name == category_name))
    if category is None:
        raise click.ClickException(f"No category named {category_name!r}.")
    try:
        board = boards.save_board(
            db.session, None, category_id=category.id, name=name, slug=slug,
            description=description, members_only=members_only,
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created board /b/{board.slug}.")


@forum_cli.command("demo-data")
@click.option("--posts", type=int, default=None, help="Generate a synthetic forum of N posts instead.")
@click.option("--seed", type=int, default=1, help="Seed for the synthetic generator.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the forum already has members.")
def demo_data(posts: int | None, seed: int, if_empty: bool) -> None:
    """Load the fictional demo community (or a synthetic forum for benchmarks)."""
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("The database already has content; demo data not loaded.")
        return
    if posts is not None:
        from forum.synthetic import generate

        if posts < 1:
            raise click.ClickException("--posts must be at least 1.")
        with click.progressbar(length=posts, label="Generating posts") as bar:
            stats = generate(db.session, posts, seed=seed, progress=bar.update)
        click.echo(
            f"Generated {stats['posts']} posts in {stats['threads']} threads by "
            f"{stats['members']} members in {stats['seconds']:.1f}s."
        )
    else:
        from forum.demo import load_demo

        summary = load_demo(db.session)
        click.echo(summary)


def init_app(app: Flask) -> None:
    app.cli.add_command(forum_cli)


@forum_cli.command("parse-signature")
@click.argument("text")
@click.option("--day-first", is_flag=True, default=None, help="Read 10/1/09 as 10 January.")
def parse_signature_command(text: str, day_first: bool | None) -> None:
    """Print the events read from a free-text signature as JSON (one object per event)."""
    import json

    from flask import current_app

    from forum import current_vocabulary
    from forum.services.signature_parser import parse_signature

    if day_first is None:
        day_first = current_app.config["SIGNATURE_DATES_DAY_FIRST"]
    events = parse_signature(text, current_vocabulary(), day_first=day_first)
    click.echo(json.dumps([e.to_json() for e in events], indent=2, ensure_ascii=False))
