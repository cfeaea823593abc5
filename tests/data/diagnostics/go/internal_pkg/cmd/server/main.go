package main

import (
	"fmt"

	"example.com/shop/internal/store"
)

func main() {
	var s store.Store
	fmt.Println(s.Count("apples"), undefinedName)
}
