package sweep

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Point is one run of a sweep.
type Point struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Vars are the point's variables as HCL expressions (strings quoted),
	// exactly as they go into its var file.
	Vars map[string]string `json:"vars"`
}

// maxNameLen bounds a point name; the index prefix keeps names unique.
const maxNameLen = 64

// Expand returns the grid's points (every combination, the last variable
// fastest) then the explicit points, each with base's variables beneath its
// own. Names are the zero-padded index then var_value pairs in variable
// order, e.g. "03-epsilon_0.1-lr_0.01". It also returns every variable the
// points set, grid variables first, in order.
func (s *Spec) Expand(base map[string]cty.Value) ([]Point, []string) {
	var combos []map[string]cty.Value
	if len(s.Grid) > 0 {
		combos = []map[string]cty.Value{{}}
		for _, ax := range s.Grid {
			next := make([]map[string]cty.Value, 0, len(combos)*len(ax.Values))
			for _, c := range combos {
				for _, v := range ax.Values {
					m := make(map[string]cty.Value, len(c)+1)
					for k, cv := range c {
						m[k] = cv
					}
					m[ax.Name] = v
					next = append(next, m)
				}
			}
			combos = next
		}
	}
	combos = append(combos, s.Points...)

	var order []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			order = append(order, n)
		}
	}
	for _, ax := range s.Grid {
		add(ax.Name)
	}
	for _, p := range s.Points {
		keys := slices.Sorted(maps.Keys(p))
		for _, k := range keys {
			add(k)
		}
	}

	width := len(fmt.Sprint(max(len(combos)-1, 0)))
	pts := make([]Point, len(combos))
	for i, c := range combos {
		p := Point{Index: i, Vars: map[string]string{}}
		for k, v := range base {
			p.Vars[k] = render(v)
		}
		name := []string{fmt.Sprintf("%0*d", width, i)}
		for _, k := range order {
			if v, ok := c[k]; ok {
				p.Vars[k] = render(v)
				name = append(name, k+"_"+nameValue(v))
			}
		}
		p.Name = strings.Join(name, "-")
		if len(p.Name) > maxNameLen {
			p.Name = strings.TrimRight(p.Name[:maxNameLen], "-_.")
		}
		pts[i] = p
	}
	return pts, order
}

func render(v cty.Value) string { return string(hclwrite.TokensForValue(v).Bytes()) }

// nameValue renders v for a folder name: letters, digits, '.', '+' and '-'
// kept, anything else '_'.
func nameValue(v cty.Value) string {
	s := render(v)
	if v.Type() == cty.String && !v.IsNull() {
		s = v.AsString()
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '+', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

// VarFile returns the HCL var file of the point: NAME = VALUE lines in name
// order.
func (p Point) VarFile() []byte {
	keys := slices.Sorted(maps.Keys(p.Vars))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, p.Vars[k])
	}
	return []byte(b.String())
}
