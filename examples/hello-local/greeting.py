"""What the greeter says."""


def greet(name: str) -> str:
    words = ["Hello", name]
    return " ".join(words) + "!"
