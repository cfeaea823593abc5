import unittest

from calc import add, div


class CalcTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(1, 2), 3)

    def test_div(self):
        self.assertEqual(div(1, 0), 0)

    def test_ok(self):
        self.assertTrue(True)


if __name__ == "__main__":
    unittest.main()
