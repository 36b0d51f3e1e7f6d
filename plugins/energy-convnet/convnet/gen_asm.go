//go:build ignore

// gen_asm writes the convnet's assembly files (package internal/asmgen
// says what they hold). go generate runs it here:
//
//	go run gen_asm.go [-dir DIR]
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/ebmflow/ebmflow/plugins/energy-convnet/convnet/internal/asmgen"
)

func main() {
	dir := flag.String("dir", ".", "folder to write the assembly files in")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run gen_asm.go [-dir DIR]\n\nWrites %v into DIR.\n", slices.Sorted(maps.Keys(asmgen.Files)))
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gen_asm: unexpected argument %q\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	for _, name := range slices.Sorted(maps.Keys(asmgen.Files)) {
		path := filepath.Join(*dir, name)
		if err := os.WriteFile(path, []byte(asmgen.Files[name]()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen_asm:", err)
			os.Exit(1)
		}
	}
}
