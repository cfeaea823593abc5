import atexit
import sys


class Boom(Exception):
    pass


def goodbye():
    print("shutting down worker pool", file=sys.stderr)
    print("bye", file=sys.stderr)


def charge(amount):
    if amount > 100:
        raise Boom(f"amount {amount} is over the limit")
    return amount


atexit.register(goodbye)
charge(500)
