import os


def handler(event):
    if event["kind"] == "create"
        return os.getcwd()
    return None
