def index():
    items = [1, 2, 3
    return items


def about():
    return "about"
