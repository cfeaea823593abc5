package store

type Store struct {
	items map[string]int
}

func (s *Store) Count(name string) int {
	return s.items[name] + "0"
}
