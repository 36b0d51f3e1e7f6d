package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/core/dashboard"
)

type serveCommand struct{ ui }

func (c *serveCommand) Synopsis() string { return "Serve a live dashboard of runs and sweeps" }
func (c *serveCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow serve [options] [DIR...]

  Serves a web page over every run folder and sweep folder under each DIR
  (default: runs/ and sweeps/ in the working directory): the runs with
  their state and last d_st, r_t, TV and verdict; a run's metrics as
  charts that follow it live, its sample grids, density and diagnostics
  figures and manifest; and a metric overlaid across runs or a sweep's
  points. It only reads: nothing in the folders changes, and no path
  outside them is served. The page needs nothing from the network.

  It prints the address it serves on and runs until SIGINT or SIGTERM.

Options:

  -addr HOST:PORT   where to listen (default 127.0.0.1:8080: this machine
                    only; port 0 picks a free port). Another address makes
                    the runs readable by whoever reaches it.
  -poll D           how often a page asks a running run for new lines
                    (default 1s)
  -log-format F     auto, human or json
  -log-level L      trace, debug, info (default), warn or error
`) + "\n"
}

func (c *serveCommand) Run(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	addr := fs.String("addr", "127.0.0.1:8080", "")
	poll := fs.Duration("poll", time.Second, "")
	logFormat := fs.String("log-format", "auto", "")
	logLevel := fs.String("log-level", "info", "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	log, err := newLogger(c.err, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{"runs", "sweeps"}
	}
	for _, d := range fs.Args() {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			fmt.Fprintf(c.err, "Error: %s is not a folder\n", d)
			return exitInvalid
		}
	}
	srv, err := dashboard.New(dashboard.Options{Dirs: dirs, Logger: log, Poll: int(poll.Milliseconds())})
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(c.err, "Error: listen on %s: %v\n", *addr, err)
		return exitInvalid
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		log.Warn().Str("addr", ln.Addr().String()).Msg("serving beyond this machine: anyone who reaches this address can read the runs")
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(c.out, "serving %s on http://%s/\n", strings.Join(srv.Dirs(), ", "), ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn().Err(err).Msg("shutdown")
	}
	return exitOK
}
