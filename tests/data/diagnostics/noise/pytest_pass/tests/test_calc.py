import logging

import pytest

from calc import add

log = logging.getLogger(__name__)


def test_add():
    print("tests/test_calc.py:12: AssertionError is what a failure looks like")
    assert add(1, 2) == 3


@pytest.mark.xfail(reason="known bug")
def test_known_bug():
    assert add(1, 1) == 3


@pytest.mark.skip(reason="needs network")
def test_network():
    pass


def test_logs_an_error():
    try:
        {}["missing"]
    except KeyError:
        log.exception("handled in test")
    assert True
