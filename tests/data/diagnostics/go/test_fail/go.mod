module example.com/test_fail

go 1.21
