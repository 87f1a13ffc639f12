"""Every state-changing request without a valid CSRF token is refused, and changes nothing.

The POST routes come from ``app.url_map``; their URLs and form data from the permission
matrix, so a new POST route is covered as soon as it has its expectation there.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from forum.extensions import db
from tests.conftest import login
from tests.integration.test_permission_matrix import EXPECTED, build_world, rules

# Routes that take state-changing POSTs without a form token, and why that is safe.
EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST from the List-Unsubscribe-Post header
    # with no form; the signed, member-specific token in the URL is the authorisation.
    ("POST", "/unsubscribe/<token>"),
}


def fingerprint(session) -> str:
    """A hash of every row of every table: equal means nothing was written."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.info.get("postgres_only"):
            continue
        for row in session.execute(select(table).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def post_routes(app) -> list[tuple[str, str]]:
    return [key for key in rules(app) if key[0] == "POST" and key not in EXEMPT]


def test_exemptions_are_real_routes(app):
    assert set(rules(app)) >= EXEMPT


@pytest.mark.parametrize("role", ["visitor", "admin", "author"])
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_posts_without_a_valid_token_are_refused(app, session, client, role, token):
    world = build_world(app, session)
    if role != "visitor":
        login(client, role)
    before = fingerprint(session)
    accepted = []
    for key in post_routes(app):
        spec = EXPECTED[key]
        data = {k: str(v).format(**world) for k, v in (spec.data or {}).items()}
        if token == "forged":
            data["csrf_token"] = "IjAxMjM0NTY3ODkwMTIzNDU2Nzg5In0.forged.token"
        response = client.post(spec.url.format(**world), data=data)
        page = response.get_data(as_text=True)
        if response.status_code != 400 or "The form had expired" not in page:
            accepted.append(f"{key[1]}: {response.status_code}")
    session.expire_all()
    assert not accepted, "POSTs answered without a valid CSRF token:\n" + "\n".join(accepted)
    assert fingerprint(session) == before


def test_a_valid_token_from_another_session_is_refused(app, session, client):
    build_world(app, session)
    other = app.test_client()
    login(other, "admin")
    from tests.conftest import csrf_token

    stolen = csrf_token(other, "/")
    login(client, "author")
    response = client.post("/settings/account/logout-everywhere", data={"csrf_token": stolen})
    assert response.status_code == 400
