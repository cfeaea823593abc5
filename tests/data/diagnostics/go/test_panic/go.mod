module example.com/test_panic

go 1.21
