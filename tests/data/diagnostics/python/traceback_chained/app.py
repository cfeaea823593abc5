class ConfigError(Exception):
    pass


def read_port(env: dict) -> int:
    return int(env["PORT"])


def load(env: dict) -> int:
    try:
        return read_port(env)
    except KeyError as exc:
        raise ConfigError("PORT is not set") from exc


def start(env: dict) -> None:
    try:
        load(env)
    except ConfigError:
        cleanup = None
        cleanup.close()


start({})
