module example.com/build_error

go 1.21
