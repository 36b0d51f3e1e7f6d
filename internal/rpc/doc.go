// Package rpc is the go-plugin glue between the sdk's Go contracts and the
// generated gRPC services: the handshake, the plugin type both ends register,
// the servers that call a plugin's implementation, the client that the host
// and linked stages use, and the proxy through which the host brokers a
// connection from one stage to another. Generated types stay inside this
// package and internal/pb.
package rpc
