package main

import "fmt"

type store struct {
	items map[string]int
}

func (s *store) add(key string) {
	s.items[key]++
}

func main() {
	fmt.Println("store starting on :8080")
	s := &store{}
	s.add("apples")
}
