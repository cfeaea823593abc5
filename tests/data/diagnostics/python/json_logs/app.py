"""A service that logs one JSON object per line, as structured loggers do."""
import json
import sys
import traceback


def emit(level: str, msg: str, **fields: object) -> None:
    print(json.dumps({"level": level, "msg": msg, **fields}), file=sys.stdout, flush=True)


def parse_amount(text: str) -> int:
    return int(text)


emit("info", "service started", port=8000)
try:
    parse_amount("12a")
except ValueError:
    emit("error", "bad request", exc_info=traceback.format_exc())
emit("info", "error budget ok", path="/healthz")
