def test_broken():
    assert (1 + 2 == 3
