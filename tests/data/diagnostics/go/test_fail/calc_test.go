package calc

import "testing"

func TestAddPasses(t *testing.T) {
	t.Log("checking zero")
	if Add(0, -1) != 0 {
		t.Log("zero case is off")
	}
}

func TestAdd(t *testing.T) {
	if got := Add(1, 2); got != 3 {
		t.Errorf("Add(1, 2) = %d; want 3", got)
	}
}

func TestDivTable(t *testing.T) {
	for _, tc := range []struct{ a, b, want int }{{6, 3, 2}, {7, 2, 4}} {
		if got := Div(tc.a, tc.b); got != tc.want {
			t.Fatalf("Div(%d, %d) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
