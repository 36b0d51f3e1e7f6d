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
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, in []byte) {
		d := Decoder{Limit: limit}
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
