package queue

import "testing"

func TestPushPop(t *testing.T) {
	q := New()
	q.Push(1)
	if got := <-q.items; got != 1 {
		t.Fatalf("got %d", got)
	}
}
