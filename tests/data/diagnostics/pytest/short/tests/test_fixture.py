import pytest


@pytest.fixture
def db():
    raise ConnectionError("db is not reachable on localhost:5432")


def test_query(db):
    assert db is not None
