import json


def parse(raw):
    return json.loads(raw)


def test_parse_order():
    order = parse('{"id": 1,}')
    assert order["id"] == 1


class TestTotals:
    def test_total(self):
        items = [{"price": 2}, {"cost": 3}]
        assert sum(i["price"] for i in items) == 5
