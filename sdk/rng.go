package sdk

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// Stream is a seeded random stream (PCG) whose state can be saved and
// restored, so a stage continues bit for bit after a checkpoint.
type Stream struct {
	*rand.Rand
	src *rand.PCG
}

// DeriveSeed returns a seed derived from a parent seed and a name with
// SHA-256, so different stages and streams get independent seeds.
func DeriveSeed(seed uint64, name string) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h := sha256.New()
	h.Write(b[:])
	h.Write([]byte(name))
	return binary.LittleEndian.Uint64(h.Sum(nil))
}

// NewStream returns the stream named name derived from seed.
func NewStream(seed uint64, name string) *Stream {
	s1 := DeriveSeed(seed, name)
	s2 := DeriveSeed(s1, "pcg-increment")
	src := rand.NewPCG(s1, s2)
	return &Stream{Rand: rand.New(src), src: src}
}

// MarshalBinary returns the stream's state.
func (s *Stream) MarshalBinary() ([]byte, error) { return s.src.MarshalBinary() }

// UnmarshalBinary restores a state returned by MarshalBinary.
func (s *Stream) UnmarshalBinary(b []byte) error { return s.src.UnmarshalBinary(b) }
