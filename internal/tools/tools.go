//go:build tools

// Package tools pins the versions of the code generators (protoc-gen-go,
// protoc-gen-go-grpc) and of libraries that the plugins use, so that
// `go mod tidy` keeps them. It is never built.
package tools

import (
	_ "github.com/hashicorp/go-hclog"
	_ "github.com/hashicorp/go-plugin"
	_ "github.com/hashicorp/hcl/v2"
	_ "github.com/rs/zerolog"
	_ "github.com/zclconf/go-cty/cty"
	_ "golang.org/x/sys/cpu"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/plot"
	_ "google.golang.org/grpc"
	_ "google.golang.org/grpc/cmd/protoc-gen-go-grpc"
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
