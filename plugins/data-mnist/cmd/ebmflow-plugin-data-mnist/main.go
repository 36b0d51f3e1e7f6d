// Command ebmflow-plugin-data-mnist serves the data-mnist plugin: MNIST
// positives (verified IDX files, [-1, 1] pixels, 28 or 32 pixels, data
// noise) and the 2-D toy sets gmm and rings. The ebmflow host starts it; see
// package mnist for its attributes.
//
// `ebmflow-plugin-data-mnist fetch [-dir DIR]` (what `ebmflow data fetch
// mnist` runs) downloads and verifies the MNIST files into DIR, by default
// the cache folder a stage reads, so that nodes without network can train.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/mnist"
	"github.com/ebmflow/ebmflow/sdk/data"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "fetch" {
		os.Exit(fetch(os.Args[2:]))
	}
	data.Serve(mnist.New())
}

func fetch(args []string) int {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	dir := fs.String("dir", "", "folder to put the MNIST files in (default: the cache folder stages read)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "fetch: unexpected argument %q\n", fs.Arg(0))
		return 1
	}
	if *dir == "" {
		d, err := mnist.DefaultCacheDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		*dir = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	from, err := mnist.Fetch(ctx, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if from == *dir {
		fmt.Printf("MNIST files already in %s (SHA-256 verified)\n", *dir)
	} else {
		fmt.Printf("MNIST files from %s verified and written to %s\n", from, *dir)
	}
	return 0
}
