package rpc

import (
	"context"
	"fmt"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Handshake is the go-plugin handshake every ebmflow plugin and host share.
// The protocol version is negotiated through VersionedPlugins.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "EBMFLOW_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "7c1b4a0e-ebmflow-energy-based-models",
}

// PluginKey is the single name under which a plugin binary serves its stage.
const PluginKey = "stage"

// PluginSets returns the versioned plugin sets: protocol sdk.ProtocolVersion
// only. impl is nil on the host side.
func PluginSets(impl sdk.Base) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		sdk.ProtocolVersion: {PluginKey: &GRPCPlugin{Impl: impl}},
	}
}

// GRPCPlugin is the go-plugin Plugin for every kind of stage; gRPC only.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the plugin's implementation (plugin side only).
	Impl sdk.Base
}

// GRPCServer registers the base service and the service of Impl's kind.
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	return Register(s, p.Impl, broker)
}

// GRPCClient returns a *Client on the plugin's connection.
func (p *GRPCPlugin) GRPCClient(ctx context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn, broker), nil
}

// Register registers impl's services on s. broker (may be nil in tests
// without links) is used to dial linked stages at Configure.
func Register(s *grpc.Server, impl sdk.Base, broker *plugin.GRPCBroker) error {
	base := &baseServer{impl: impl, broker: broker, limit: wire.DefaultLimit, methods: baseMethods(impl)}
	pb.RegisterPluginServer(s, base)
	add := func(m map[string]method) {
		for k, v := range m {
			base.methods[k] = v
		}
	}
	switch x := impl.(type) {
	case sdk.Energy:
		add(energyMethods(x))
		pb.RegisterEnergyServer(s, &energyServer{base: base})
	case sdk.Sampler:
		add(samplerMethods(x))
		pb.RegisterSamplerServer(s, &samplerServer{base: base})
	case sdk.Data:
		add(dataMethods(x))
		pb.RegisterDataServer(s, &dataServer{impl: x, base: base})
	case sdk.Diagnoser:
		add(diagMethods(x))
		pb.RegisterDiagnosticsServer(s, &diagServer{impl: x, base: base})
	default:
		return fmt.Errorf("plugin %q implements none of the kinds energy, sampler, data, diagnostics", impl.Info().Name)
	}
	return nil
}

// KindOf returns the kind an implementation actually implements.
func KindOf(impl sdk.Base) sdk.Kind {
	switch impl.(type) {
	case sdk.Energy:
		return sdk.KindEnergy
	case sdk.Sampler:
		return sdk.KindSampler
	case sdk.Data:
		return sdk.KindData
	case sdk.Diagnoser:
		return sdk.KindDiagnostics
	}
	return ""
}

// HTTP/2 flow-control windows and socket buffers sized for tensors: with
// gRPC's 64 KiB defaults a 400 KB batch needs several round trips of window
// updates per call.
const (
	windowSize = 16 << 20
	bufferSize = 1 << 20
)

// GRPCOptions are the server options of every plugin and brokered server:
// explicit message limits sized for wire.ChunkSize frames.
func GRPCOptions(opts []grpc.ServerOption) []grpc.ServerOption {
	return append(opts, grpc.MaxRecvMsgSize(wire.MaxMessageSize), grpc.MaxSendMsgSize(wire.MaxMessageSize),
		grpc.InitialWindowSize(windowSize), grpc.InitialConnWindowSize(windowSize),
		grpc.ReadBufferSize(bufferSize), grpc.WriteBufferSize(bufferSize))
}

// DialOptions are the client options matching GRPCOptions.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(wire.MaxMessageSize), grpc.MaxCallSendMsgSize(wire.MaxMessageSize)),
		grpc.WithInitialWindowSize(windowSize), grpc.WithInitialConnWindowSize(windowSize),
		grpc.WithReadBufferSize(bufferSize), grpc.WithWriteBufferSize(bufferSize),
	}
}
