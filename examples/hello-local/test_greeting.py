import unittest

from greeting import greet


class GreetTest(unittest.TestCase):
    def test_greets_by_name(self) -> None:
        self.assertEqual(greet("Ada"), "Hello Ada!")


if __name__ == "__main__":
    unittest.main()
