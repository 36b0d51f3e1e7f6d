package plugintest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fileMarker names the file a code block of docs/plugins.md goes into:
// "<!-- go: DIR/FILE.go -->" on the line before the block. Blocks without
// one go alone into their own package.
var fileMarker = regexp.MustCompile(`^<!-- go: ([a-z0-9_/]+\.go) -->$`)

type docBlock struct {
	file string
	line int
	code string
}

// goBlocks extracts the ```go blocks of a Markdown file.
func goBlocks(path string) ([]docBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []docBlock
	var cur *docBlock
	prev := "" // the last non-blank line outside a block
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		case trimmed == "```go":
			file := fmt.Sprintf("block%d/main.go", len(blocks)+1)
			if m := fileMarker.FindStringSubmatch(prev); m != nil {
				file = m[1]
			}
			cur = &docBlock{file: file, line: n}
		case trimmed != "":
			prev = trimmed
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: the code block at line %d is not closed", path, cur.line)
	}
	return blocks, sc.Err()
}

// TestDocsCodeCompiles writes every Go code block of docs/plugins.md into a
// module of its own (requiring this checkout, as a plugin author's module
// does) and runs go vet on it, which compiles the blocks and their tests;
// unless -short, it runs those tests as well.
func TestDocsCodeCompiles(t *testing.T) {
	root := repoRoot(t)
	doc := filepath.Join(root, "docs", "plugins.md")
	blocks, err := goBlocks(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 5 {
		t.Fatalf("docs/plugins.md has %d Go code blocks; expected the guide's samples", len(blocks))
	}
	mod := t.TempDir()
	gomod := fmt.Sprintf("module example.com/docsamples\n\ngo 1.26.0\n\nrequire github.com/ebmflow/ebmflow v0.0.0\n\nreplace github.com/ebmflow/ebmflow => %s\n", root)
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	where := map[string]int{}
	for _, b := range blocks {
		if _, dup := where[b.file]; dup {
			t.Fatalf("docs/plugins.md:%d: %s is also the file of the block at line %d", b.line, b.file, where[b.file])
		}
		where[b.file] = b.line
		p := filepath.Join(mod, b.file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(b.code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := [][]string{{"mod", "tidy"}, {"vet", "./..."}}
	if !testing.Short() {
		// The samples' tests (the conformance harness among them) pass too.
		steps = append(steps, []string{"test", "-count=1", "./..."})
	}
	for _, args := range steps {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		if out, err := cmd.CombinedOutput(); err != nil {
			msg := string(out)
			for file, line := range where {
				msg = strings.ReplaceAll(msg, file, fmt.Sprintf("%s (docs/plugins.md block at line %d)", file, line))
			}
			t.Fatalf("go %s on the code blocks of docs/plugins.md: %v\n%s", strings.Join(args, " "), err, msg)
		}
	}
	t.Logf("%d code blocks in %d files compile and pass go vet (and go test unless -short)", len(blocks), len(where))
}
