"""The mail outbox: queued in the caller's transaction, sent after it commits, retried on failure.

``queue_notifications`` / ``queue_for_member`` write ``OutboxMail`` rows next to the change they
tell about (a reply, a message): both commit or neither does. They need no app context. The
web layer sends the request's mails once the response has gone out (``deliver(session, ids)``);
``flask --app wsgi forum send-mail`` sends whatever is due, including earlier failures. A failed
send never fails the request: it is logged, counted in ``attempts`` with its ``last_error``, and
retried later with a growing delay.

Every member mail ends with a signed one-click unsubscribe link (and the RFC 8058 headers), which
needs no login: ``unsubscribe_token`` / ``read_unsubscribe_token``. Links and footers are written
at sending time, in an app context (``BASE_URL``, ``SECRET_KEY``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from forum.models import OutboxMail, User, utcnow

log = logging.getLogger(__name__)

PENDING_KEY = "outbox_pending"
UNSUBSCRIBE_SALT = "cairn-unsubscribe"
# A sender holds a claimed row this long; a crash mid-send makes it due again afterwards.
LEASE = timedelta(minutes=10)


# -- links in mails ---------------------------------------------------------------------------


def external_url(endpoint: str, **values) -> str:
    """An absolute URL under ``BASE_URL``: mails are also built outside requests (cron)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def _email_fingerprint(user: User) -> str:
    # Changing one's address retires links sent to the old one.
    return hashlib.sha256(user.email_key.encode()).hexdigest()[:16]


def unsubscribe_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "e": _email_fingerprint(user)})


def read_unsubscribe_token(session: Session, token: str) -> User | None:
    """The member a valid, unexpired token was made for; None otherwise."""
    max_age = current_app.config["UNSUBSCRIBE_MAX_AGE_DAYS"] * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if user is None or data.get("e") != _email_fingerprint(user):
        return None
    return user


# -- queueing (no app context needed: services run from requests, CLI and tests alike) ---------


def _queue(session: Session, rows: list[dict]) -> list[int]:
    """Insert outbox rows in one batched statement; the web layer sends them after the commit."""
    if not rows:
        return []
    now = utcnow()
    ids = list(
        session.scalars(
            insert(OutboxMail).returning(OutboxMail.id),
            [{"next_attempt_at": now, "created_at": now, **row} for row in rows],
        )
    )
    session.info.setdefault(PENDING_KEY, []).extend(ids)
    return ids


def queue_notifications(session: Session, items: list[tuple[int, int]]) -> list[int]:
    """Queue the mails about notifications, ``(user id, notification id)`` pairs; no commit.

    Each is written when sent, so a grouped notification says how many replies there are by then.
    """
    return _queue(
        session,
        [{"user_id": uid, "notification_id": nid, "subject": "", "body": ""} for uid, nid in items],
    )


def queue_for_member(session: Session, user: User, subject: str, body: str) -> int:
    """Queue a ready-made mail to a member (no commit). The unsubscribe footer is added later."""
    row = {"user_id": user.id, "notification_id": None, "subject": subject[:300], "body": body}
    return _queue(session, [row])[0]


def take_queued_ids(session: Session) -> list[int]:
    """Ids queued through this session since the last call (the web layer sends them)."""
    return session.info.pop(PENDING_KEY, [])


def _with_footer(user: User, body: str) -> tuple[str, dict[str, str]]:
    """Every member mail: a link to the settings and a one-click unsubscribe link and header."""
    unsubscribe = external_url("unsubscribe.confirm", token=unsubscribe_token(user))
    settings = external_url("notifications.settings")
    body = (
        f"{body.rstrip()}\n\n-- \n"
        f"You get these emails because of your settings on {current_app.config['FORUM_NAME']}: "
        f"{settings}\nStop all emails with one click: {unsubscribe}\n"
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    return body, headers


# -- sending ----------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # the member chose "never" (or left) since the mail was queued


def retry_delay(attempts: int) -> timedelta:
    """5, 10, 20, 40 … minutes, at most 12 hours."""
    return timedelta(minutes=min(5 * 2 ** max(attempts - 1, 0), 12 * 60))


def deliver(
    session: Session,
    ids: list[int] | None = None,
    *,
    now: datetime | None = None,
    send: Callable[..., object] | None = None,
) -> DeliveryReport:
    """Send the due mails (only ``ids`` when given), each in short transactions of its own.

    A row is claimed with one UPDATE before sending, so two senders never send it twice.
    """
    from forum.mailer import send_mail

    send = send or send_mail
    now = now or utcnow()
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    query = (
        select(OutboxMail.id)
        .where(OutboxMail.next_attempt_at <= now, OutboxMail.attempts < max_attempts)
        .order_by(OutboxMail.id)
    )
    if ids is not None:
        if not ids:
            return DeliveryReport()
        query = query.where(OutboxMail.id.in_(ids))
    due = list(session.scalars(query))
    session.commit()
    report = DeliveryReport()
    for mail_id in due:
        claimed = session.execute(
            update(OutboxMail)
            .where(
                OutboxMail.id == mail_id,
                OutboxMail.next_attempt_at <= now,
                OutboxMail.attempts < max_attempts,
            )
            .values(next_attempt_at=now + LEASE)
        ).rowcount
        session.commit()
        if claimed:
            _send_one(session, mail_id, now, send, report)
    return report


def _send_one(
    session: Session,
    mail_id: int,
    now: datetime,
    send: Callable[..., object],
    report: DeliveryReport,
) -> None:
    mail = session.get(OutboxMail, mail_id)
    if mail is None:
        return
    user = session.get(User, mail.user_id)
    if user is None or user.email_mode == "never" or user.deleted_at is not None:
        session.delete(mail)
        session.commit()
        report.skipped += 1
        return
    try:
        subject, body = mail.subject, mail.body
        if mail.notification_id is not None:
            from forum.services.notification_texts import mail_for

            subject, body = mail_for(session, mail.notification_id)
        body, headers = _with_footer(user, body)
        to = user.email
        session.commit()  # never hold the database (on SQLite, its write lock) while sending
        send(to, subject, body, headers=headers)
    except Exception as exc:  # any failure: keep the mail, log it, retry later
        session.rollback()
        mail = session.get(OutboxMail, mail_id)
        if mail is None:
            return
        mail.attempts += 1
        mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        mail.next_attempt_at = now + retry_delay(mail.attempts)
        session.commit()
        report.failed += 1
        log.warning(
            "Sending mail %s to member %s failed on attempt %s: %s",
            mail_id,
            mail.user_id,
            mail.attempts,
            mail.last_error,
        )
        return
    session.delete(mail)
    session.commit()
    report.sent += 1


def given_up(session: Session) -> int:
    """Mails that failed ``OUTBOX_MAX_ATTEMPTS`` times and are no longer retried."""
    from sqlalchemy import func

    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMail)
            .where(OutboxMail.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"])
        )
        or 0
    )
