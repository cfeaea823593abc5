package parse

import "strings"

func Field(line string, i int) string {
	parts := strings.Split(line, ",")
	return parts[i]
}
