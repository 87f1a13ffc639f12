"""Outgoing mail through Flask-Mail; without ``MAIL_SERVER`` it is written to ``MAIL_FOLDER``.

Development mail lands in ``instance/mail/`` as ``.eml`` files (open them with any mail client).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from flask_mail import Message

from forum.extensions import mail

_sequence = itertools.count()


def send_mail(
    to: str | list[str],
    subject: str,
    text: str,
    *,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> Message:
    """Send one message now. Raises on failure: callers that must not fail catch and retry."""
    recipients = [to] if isinstance(to, str) else list(to)
    message = Message(
        subject=subject,
        recipients=recipients,
        body=text,
        html=html,
        extra_headers=headers or {},
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    if current_app.config.get("MAIL_SERVER"):
        mail.send(message)
    else:
        folder = Path(current_app.config["MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        # Names sort in the order the mails were written (microseconds, then a counter).
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{next(_sequence):08d}-{uuid.uuid4().hex[:6]}.eml"
        (folder / name).write_bytes(message.as_bytes())
    return message


def sent_mail_files() -> list[Path]:
    """The development mail folder's messages, oldest first (tests and the README use it)."""
    folder = Path(current_app.config["MAIL_FOLDER"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []
