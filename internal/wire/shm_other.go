//go:build !linux

package wire

import (
	"fmt"

	"github.com/ebmflow/ebmflow/internal/pb"
)

const shmSupported = false

// Pool is a caller's shared memory; on this system there is none.
type Pool struct{}

// NewPool fails: shared-memory tensors are Linux only.
func NewPool() (*Pool, error) { return nil, fmt.Errorf("%w: not supported on this system", ErrShm) }

// DefaultPool fails: shared-memory tensors are Linux only.
func DefaultPool() (*Pool, error) { return NewPool() }

// Lease fails.
func (p *Pool) Lease(req, reply int64) (*Lease, error) {
	return nil, fmt.Errorf("%w: not supported", ErrShm)
}

// Close does nothing.
func (p *Pool) Close() {}

// Lease is one call's region; never handed out here.
type Lease struct{}

func (l *Lease) Place(int64) ([]byte, *pb.ShmRef) { return nil, nil }
func (l *Lease) Reply() *pb.ShmRegion             { return nil }
func (l *Lease) Resolve(*pb.ShmRef, func([]byte)) error {
	return fmt.Errorf("%w: not supported", ErrShm)
}
func (l *Lease) Release() {}
func (l *Lease) Drop()    {}

// Mapper maps callers' segments; here it refuses every handle.
type Mapper struct{}

// NewMapper returns a mapper that refuses every handle.
func NewMapper(int) *Mapper { return &Mapper{} }

// DefaultMapper is the process's mapper.
func DefaultMapper() *Mapper { return &Mapper{} }

// Resolve refuses.
func (m *Mapper) Resolve(*pb.ShmRef, func([]byte)) error {
	return fmt.Errorf("%w: not supported on this system", ErrShm)
}

// Area refuses.
func (m *Mapper) Area(*pb.ShmRegion) (*Area, error) {
	return nil, fmt.Errorf("%w: not supported on this system", ErrShm)
}

// Close does nothing.
func (m *Mapper) Close() {}

// Area is a caller's answer room; never handed out here.
type Area struct{}

func (a *Area) Place(int64) ([]byte, *pb.ShmRef) { return nil, nil }
func (a *Area) Close()                           {}
