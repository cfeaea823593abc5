package parse

import "testing"

func TestField(t *testing.T) {
	if got := Field("a,b", 1); got != "b" {
		t.Errorf("Field = %q", got)
	}
	if got := Field("a,b", 5); got != "" {
		t.Errorf("Field = %q", got)
	}
}
