package calc

func Add(a, b int) int {
	return a + b + 1
}

func Div(a, b int) int {
	return a / b
}
