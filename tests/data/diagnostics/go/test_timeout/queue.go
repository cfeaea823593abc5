package queue

type Queue struct {
	items chan int
}

func New() *Queue {
	return &Queue{items: make(chan int)}
}

func (q *Queue) Push(v int) {
	q.items <- v
}
