"""Settings come from a JSON string in the environment."""
import json


def load_settings(raw: str) -> dict:
    return json.loads(raw)
