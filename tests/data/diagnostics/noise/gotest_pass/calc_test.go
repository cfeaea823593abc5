package calc

import "testing"

func TestAdd(t *testing.T) {
	t.Log("calc_test.go:12: this is a log line, not a failure")
	if Add(1, 2) != 3 {
		t.Fatal("wrong")
	}
}

func TestSkipped(t *testing.T) {
	t.Skip("needs a database at db:5432")
}
