"""``flask --app wsgi forum …`` commands."""

from __future__ import annotations

import sys
from pathlib import Path

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
def create_board(
    name: str, category_name: str, slug: str, description: str, members_only: bool
) -> None:
    category = db.session.scalar(select(Category).where(Category.name == category_name))
    if category is None:
        raise click.ClickException(f"No category named {category_name!r}.")
    try:
        board = boards.save_board(
            db.session,
            None,
            category_id=category.id,
            name=name,
            slug=slug,
            description=description,
            members_only=members_only,
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created board /b/{board.slug}.")


@forum_cli.command("demo-data")
@click.option(
    "--posts", type=int, default=None, help="Generate a synthetic forum of N posts instead."
)
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
            f"{stats['members']} members in {stats['seconds']:.1f}s. "
            "Run `flask --app wsgi forum reindex` to make them searchable."
        )
    else:
        from forum.demo import load_demo
        from forum.search.factory import search_backend
        from forum.services import indexing

        summary = load_demo(db.session)
        click.echo(summary)
        # The demo is written directly, not through the services: index it in one go.
        count = indexing.reindex(db.session, search_backend())
        click.echo(f"Indexed {count} posts for search.")


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


@forum_cli.command("index")
@click.option("--drain", is_flag=True, help="Apply every queued change to the search index.")
def index_command(drain: bool) -> None:
    """Show the search queue, or apply it with --drain."""
    from forum.search.factory import search_backend
    from forum.services import indexing

    if drain:
        done = indexing.drain_all(db.session, search_backend())
        click.echo(f"Applied {done} queued change(s); {indexing.pending(db.session)} left.")
    else:
        click.echo(f"{indexing.pending(db.session)} change(s) waiting in the search queue.")


@forum_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index from the database (search keeps working meanwhile)."""
    from forum.search.factory import search_backend
    from forum.services import indexing

    total = indexing.visible_post_count(db.session)
    with click.progressbar(length=total, label="Indexing posts") as bar:
        done = [0]

        def progress(count: int) -> None:
            bar.update(count - done[0])
            done[0] = count

        count = indexing.reindex(db.session, search_backend(), progress=progress)
    click.echo(f"Indexed {count} posts.")


@forum_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Schedule treatment-anniversary reminders and mail every due reminder once (run daily).

    Reminder mails go through the outbox like every member mail: members who chose no email get
    none, and each mail carries the one-click unsubscribe link. Links use ``BASE_URL``.
    """
    from flask import current_app

    from forum import current_vocabulary
    from forum.services import outbox, reminders

    added = reminders.sync_all_anniversaries(db.session, current_vocabulary())

    def queue(reminder, user, thread) -> None:
        subject, text = reminders.reminder_message(
            reminder,
            user,
            thread,
            forum_name=current_app.config["FORUM_NAME"],
            update_url=outbox.external_url("threads.reply", thread_id=thread.id, update=1)
            if thread
            else None,
            settings_url=outbox.external_url("reminders.settings"),
        )
        outbox.queue_for_member(db.session, user, subject, text)

    queued, failed = reminders.mail_due_reminders(db.session, queue)
    report = outbox.deliver(db.session)
    click.echo(
        f"Scheduled {added} anniversary reminder(s); mailed {queued}, {failed} failed "
        f"({report.sent} sent now, {report.failed} to retry with send-mail)."
    )
    if failed:
        raise click.exceptions.Exit(1)


@forum_cli.command("send-mail")
def send_mail_command() -> None:
    """Send the outbox's due mail, retrying earlier failures (run every few minutes)."""
    from forum.services import outbox

    report = outbox.deliver(db.session)
    click.echo(
        f"Sent {report.sent} mail(s); {report.failed} failed and will be retried; "
        f"{report.skipped} skipped (the member chose no email)."
    )
    stuck = outbox.given_up(db.session)
    if stuck:
        click.echo(f"{stuck} mail(s) failed too often and are no longer retried.", err=True)


@forum_cli.command("send-digests")
def send_digests_command() -> None:
    """Queue and send the daily digest to members who chose one (run once a day)."""
    from forum.services import digests, outbox

    queued = digests.queue_digests(db.session)
    report = outbox.deliver(db.session)
    click.echo(f"Queued {queued} digest(s); sent {report.sent} mail(s), {report.failed} failed.")


@forum_cli.command("import-smf")
@click.option("--source", required=True, help="SMF database URL, e.g. mysql+pymysql://u@host/db")
@click.option("--prefix", default="smf_", show_default=True, help="SMF's table prefix.")
@click.option("--batch-size", default=1000, show_default=True)
@click.option("--workers", default=1, show_default=True, help="Processes converting bodies.")
@click.option(
    "--avatar-base-url",
    default=None,
    help="Where the old forum's avatar gallery is served (SMF's avatar_url), e.g. "
    "https://old.example.org/avatars: gallery avatars become links there.",
)
def import_smf_command(
    source: str, prefix: str, batch_size: int, workers: int, avatar_base_url: str | None
) -> None:
    """Import an SMF 2.0/2.1 forum. Safe to run again: what is already imported is skipped."""
    from contextlib import contextmanager

    from flask import current_app
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from forum import current_vocabulary
    from forum.importers.smf import SmfSource
    from forum.importers.smf_writer import SmfImporter
    from forum.search.factory import search_backend

    @contextmanager
    def progress(label: str, total: int):
        with click.progressbar(length=total, label=f"{label:<18}") as bar:
            yield bar

    try:
        smf = SmfSource(source, prefix)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except (ArgumentError, NoSuchModuleError, OperationalError) as exc:
        raise click.ClickException(f"Can't read the SMF database at --source: {exc}") from None
    try:
        try:
            importer = SmfImporter(
                db.session,
                smf,
                vocabulary=current_vocabulary(),
                batch_size=batch_size,
                progress=progress,
                day_first=current_app.config["SIGNATURE_DATES_DAY_FIRST"],
                workers=workers,
                avatar_base_url=avatar_base_url,
            )
        except ValueError as exc:  # an unusable --avatar-base-url
            raise click.ClickException(str(exc)) from None
        report = importer.run(search_backend())
    finally:
        smf.dispose()
    for line in report.lines():
        click.echo(line)


@forum_cli.command("backup")
@click.argument("dest", required=False, type=click.Path(path_type=Path))
def backup_command(dest: Path | None) -> None:
    """Copy the database while the forum runs (SQLite: online backup; PostgreSQL: pg_dump).

    DEST is a new file or an existing folder; by default instance/backups/cairn-<UTC time>.db.
    The search index is not copied: after a restore, run `forum reindex`.
    """
    from flask import current_app

    from forum.services import backup

    try:
        report = backup.backup(db.engine.url, dest, instance_dir=Path(current_app.instance_path))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)
