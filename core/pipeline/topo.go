package pipeline

// topoSort orders names so that each comes after the names it depends on
// (deps[n] lists what n depends on). Ties keep the order of names. If there
// is a cycle it returns it, starting and ending with the same member.
func topoSort(names []string, deps map[string][]string) (order, cycle []string) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) bool
	visit = func(n string) bool {
		switch state[n] {
		case done:
			return true
		case visiting:
			for i, s := range stack {
				if s == n {
					cycle = append(append([]string(nil), stack[i:]...), n)
					return false
				}
			}
			return false
		}
		state[n] = visiting
		stack = append(stack, n)
		for _, d := range deps[n] {
			if !visit(d) {
				return false
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		order = append(order, n)
		return true
	}
	for _, n := range names {
		if !visit(n) {
			return nil, cycle
		}
	}
	return order, nil
}
