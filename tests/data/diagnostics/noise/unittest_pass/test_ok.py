import logging
import unittest

log = logging.getLogger(__name__)


class OkTest(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(1 + 1, 2)

    @unittest.expectedFailure
    def test_expected(self):
        self.assertEqual(1, 2)

    @unittest.skip("not today")
    def test_skipped(self):
        pass

    def test_error_logged(self):
        try:
            raise ValueError("handled")
        except ValueError:
            log.warning("FAIL: test_ok (test_ok.OkTest.test_ok) is a string, not a failure")
        self.assertTrue(True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
