import pytest

from calc import add, div


def test_add():
    assert add(1, 2) == 3


def test_div_zero():
    assert div(1, 0) == 0


@pytest.mark.parametrize("a,b,want", [(1, 1, 2), (2, 2, 4)])
def test_add_many(a, b, want):
    assert add(a, b) == want


def test_ok():
    assert 1 + 1 == 2
