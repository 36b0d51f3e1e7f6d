package rpc

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Description is what `ebmflow-plugin-NAME describe` prints.
type Description struct {
	Info   sdk.Info   `json:"info"`
	Schema sdk.Schema `json:"schema"`
}

// Describe returns impl's description with the kind and protocol filled in.
func Describe(impl sdk.Base) Description {
	info := impl.Info()
	info.Protocol = sdk.ProtocolVersion
	if k := KindOf(impl); k != "" {
		info.Kind = k
	}
	return Description{Info: info, Schema: impl.Schema()}
}

// Serve runs a plugin process. Started by the host (the magic cookie is set)
// it serves impl over gRPC until the host kills it or goes away. Started with
// the argument "describe" it prints its info and schema as JSON. Started any
// other way by hand it prints one line saying what it is and exits 1.
func Serve(impl sdk.Base) {
	d := Describe(impl)
	if info := impl.Info(); info.Kind != "" && info.Kind != d.Info.Kind {
		fmt.Fprintf(os.Stderr, "ebmflow plugin %q says it is a %s plugin but implements %s\n", info.Name, info.Kind, d.Info.Kind)
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "describe" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		fmt.Fprintf(os.Stderr, "%s is an ebmflow %s plugin (%s %s, protocol %d); ebmflow starts it from a pipeline, and '%s describe' prints its schema\n",
			filepath.Base(os.Args[0]), d.Info.Kind, d.Info.Name, d.Info.Version, sdk.ProtocolVersion, filepath.Base(os.Args[0]))
		os.Exit(1)
	}
	go watchParent(os.Getppid())
	// SIGINT and SIGTERM are for the host: a terminal's ^C or a scheduler's
	// scancel reaches the whole process group, and the host answers by
	// finishing its iteration and checkpointing, which needs its plugins.
	// The host ends its plugins itself, and a plugin whose host is gone
	// exits on its own (watchParent).
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	stopProfile := startProfile(d.Info.Name)
	defer stopProfile()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(impl),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(GRPCOptions(opts))
		},
		Logger: hclog.New(&hclog.LoggerOptions{Name: d.Info.Name, Level: hclog.Warn, Output: os.Stderr, JSONFormat: true}),
	})
}

// watchParent ends the plugin when the host is gone (re-parented), so no
// plugin outlives its host even if the host was killed with SIGKILL.
func watchParent(ppid int) {
	for {
		time.Sleep(200 * time.Millisecond)
		if os.Getppid() != ppid {
			os.Exit(3)
		}
	}
}
