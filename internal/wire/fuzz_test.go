package wire

import (
	"encoding/binary"
	"testing"

	"github.com/ebmflow/ebmflow/internal/pb"
	"google.golang.org/protobuf/proto"
)

// FuzzDecoder feeds arbitrary frame streams to the Decoder: each input is a
// sequence of length-prefixed protobuf Frame encodings. The decoder must
// never panic and never accept a message whose tensors disagree with their
// headers; the small limit keeps allocation bounded whatever a header claims.
func FuzzDecoder(f *testing.F) {
	seed := func(frames ...*pb.Frame) []byte {
		var out []byte
		for _, fr := range frames {
			b, _ := proto.Marshal(fr)
			out = binary.AppendUvarint(out, uint64(len(b)))
			out = append(out, b...)
		}
		return out
	}
	f.Add(seed(&pb.Frame{Meta: []byte{8, 1}}, header("x", pb.DType_FLOAT32, []int64{2}, 8, make([]byte, 8))))
	f.Add(seed(header("x", pb.DType_FLOAT64, []int64{1 << 30}, 1<<33, nil)))
	f.Add(seed(header("x", pb.DType_FLOAT32, []int64{3}, 12, make([]byte, 4)), &pb.Frame{Chunk: &pb.TensorChunk{Data: make([]byte, 8)}}))
	f.Add(seed(&pb.Frame{Chunk: &pb.TensorChunk{Data: []byte{1, 2}}}))
	shm := &pb.Frame{Reply: &pb.ShmRegion{Segment: &pb.ShmRef{Offset: 64, Length: 64}}, Chunk: &pb.TensorChunk{Start: true, Name: "x", Dtype: pb.DType_FLOAT32, Shape: []int64{4}, ByteLen: 16, Shm: &pb.ShmRef{Offset: 8, Length: 16}}}
	f.Add(seed(shm))
	f.Add(seed(shm, &pb.Frame{ShmOk: true}))
	const limit = 1 << 16
	seg := make([]byte, 4096)
	f.Fuzz(func(t *testing.T, in []byte) {
		d := Decoder{Limit: limit, Shm: sliceResolver(seg)}
		for len(in) > 0 {
			n, k := binary.Uvarint(in)
			if k <= 0 || n > uint64(len(in)-k) {
				break
			}
			var fr pb.Frame
			if proto.Unmarshal(in[k:k+int(n)], &fr) != nil {
				break
			}
			in = in[k+int(n):]
			if d.Add(&fr) != nil {
				return
			}
		}
		msg, err := d.Finish()
		if err != nil {
			return
		}
		for name, tn := range msg.Tensors {
			if err := tn.Validate(); err != nil {
				t.Fatalf("accepted invalid tensor %q: %v", name, err)
			}
			if int64(tn.Len()*tn.DType.Size()) > limit {
				t.Fatalf("accepted tensor %q above the limit", name)
			}
		}
	})
}

// sliceResolver resolves handles into a fixed buffer, checking the range as
// a Mapper does.
type sliceResolver []byte

func (s sliceResolver) Resolve(ref *pb.ShmRef, read func([]byte)) error {
	if ref.Offset < 0 || ref.Length < 0 || ref.Offset > int64(len(s)) || ref.Length > int64(len(s))-ref.Offset {
		return ErrShm
	}
	read(s[ref.Offset : ref.Offset+ref.Length])
	return nil
}
