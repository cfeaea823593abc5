package main

import (
	"fmt"
	"sync"
)

func worker(id int, jobs []int, wg *sync.WaitGroup) {
	defer wg.Done()
	idx := id * 10
	fmt.Println("job", jobs[idx])
}

func main() {
	var wg sync.WaitGroup
	jobs := []int{1, 2, 3}
	wg.Add(1)
	go worker(1, jobs, &wg)
	wg.Wait()
}
