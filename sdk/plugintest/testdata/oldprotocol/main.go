// Command oldprotocol is a plugin built against an older ebmflow plugin
// protocol (version 0): it completes go-plugin's handshake with the ebmflow
// magic cookie but offers only protocol 0, which the host must refuse,
// saying what it found and what it expected.
package main

import (
	"context"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// stage is a protocol-0 stage plugin: it serves no ebmflow service.
type stage struct{ plugin.NetRPCUnsupportedPlugin }

func (stage) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }
func (stage) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  rpc.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{0: {rpc.PluginKey: stage{}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
