package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0 // success
	exitInvalid = 1 // invalid input: usage, pipeline, lock file, missing plugin
	exitFailed  = 2 // a failure while running: a plugin crashed, a deadline passed
)

// command is one subcommand: one file each.
type command interface {
	Synopsis() string
	Help() string
	Run(args []string) int
}

type ui struct {
	out, err io.Writer
}

func commands(u ui) map[string]command {
	return map[string]command{
		"plugins":  &pluginsCommand{ui: u},
		"plugin":   &pluginCommand{ui: u},
		"init":     &initCommand{ui: u},
		"version":  &versionCommand{ui: u},
		"validate": &validateCommand{ui: u},
		"graph":    &graphCommand{ui: u},
		"run":      &runCommand{ui: u},
		"verify":   &verifyCommand{ui: u},
		"sweep":    &sweepCommand{ui: u},
		"sample":   &sampleCommand{ui: u},
		"score":    &scoreCommand{ui: u},
		"data":     &dataCommand{ui: u},
		"serve":    &serveCommand{ui: u},
	}
}

func runCLI(args []string, out, errw io.Writer) int {
	u := ui{out: out, err: errw}
	cmds := commands(u)
	if len(args) == 2 && args[0] == "help" {
		// ebmflow help CMD: CMD's own help.
		c, ok := cmds[args[1]]
		if !ok {
			fmt.Fprintf(errw, "ebmflow help: %s\n", unknown(cmds, args[1]))
			return exitInvalid
		}
		fmt.Fprint(out, c.Help())
		return exitOK
	}
	if len(args) == 0 || args[0] == "-help" || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(out, usage(cmds))
		if len(args) == 0 {
			return exitInvalid
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(errw, "ebmflow: %s\n\n%s", unknown(cmds, args[0]), usage(cmds))
		return exitInvalid
	}
	return c.Run(args[1:])
}

// unknown says that name is no command, suggesting the nearest one when it
// is a likely typo (at most two edits, or a prefix).
func unknown(cmds map[string]command, name string) string {
	best, dist := "", 3
	for n := range cmds {
		d := levenshtein.Distance(name, n, nil)
		if strings.HasPrefix(n, name) && len(name) >= 2 {
			d = min(d, 1)
		}
		if d < dist || (d == dist && n < best) {
			best, dist = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown command %q; did you mean %s?", name, best)
	}
	return fmt.Sprintf("unknown command %q", name)
}

func usage(cmds map[string]command) string {
	names := slices.Sorted(maps.Keys(cmds))
	var b strings.Builder
	b.WriteString("Usage: ebmflow <command> [options] [args]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "    %-10s %s\n", n, cmds[n].Synopsis())
	}
	b.WriteString("\nRun 'ebmflow <command> -help' for a command's options.\n")
	return b.String()
}

// newLogger returns the CLI's logger: human-readable on a terminal, JSON
// otherwise, or as format says ("auto", "human", "json").
func newLogger(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Logger{}, fmt.Errorf("unknown log level %q (trace, debug, info, warn, error)", level)
	}
	human := false
	switch format {
	case "human":
		human = true
	case "json":
	case "auto", "":
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			human = true
		}
		if _, ok := w.(*runner.Terminal); ok {
			human = true
		}
	default:
		return zerolog.Logger{}, fmt.Errorf("unknown log format %q (auto, human, json)", format)
	}
	// Durations carry their unit ("took=2m58.013s"), in both formats.
	zerolog.DurationFieldFormat = zerolog.DurationFormatString
	if human {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
