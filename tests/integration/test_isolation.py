"""The database fixture: each test sees a clean database; the schema comes from migrations."""

from sqlalchemy import func, select

from forum.models import User
from tests.factories import make_user


def test_first_writer_commits(session):
    make_user(session, "isolation_a")
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_second_test_starts_clean(session):
    assert session.scalar(select(func.count()).select_from(User)) == 0
