package main

import (
	"fmt"
	"os"
)

func main() {
	count := "3"
	total := count + 1
	fmt.Println(totl)
}
