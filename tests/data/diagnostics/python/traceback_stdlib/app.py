import json

from settings import load_settings


def main() -> None:
    print("starting worker")
    cfg = load_settings('{"port": 8080,}')
    print(cfg)


if __name__ == "__main__":
    main()
