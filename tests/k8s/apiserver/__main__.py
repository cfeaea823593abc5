import sys

from . import run_forever

run_forever(sys.argv[1] if len(sys.argv) > 1 else None)
