// Package rpctest serves a plugin implementation in-process over the real
// gRPC codec (go-plugin's test connection), for tests of the wire mapping
// without starting a process.
package rpctest

import (
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-plugin"
)

// Dial serves impl and returns a client for it; both close when the test
// ends. The connection has a broker, so stage links work.
func Dial(t testing.TB, impl sdk.Base) *rpc.Client {
	t.Helper()
	c, _ := plugin.TestPluginGRPCConn(t, false, rpc.PluginSets(impl)[sdk.ProtocolVersion])
	t.Cleanup(func() { c.Close() })
	raw, err := c.Dispense(rpc.PluginKey)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*rpc.Client)
}
