import logging

log = logging.getLogger("orders")


def test_logs_and_fails():
    try:
        {}["order-7"]
    except KeyError:
        log.exception("lookup failed")
    assert False, "order 7 should exist"
