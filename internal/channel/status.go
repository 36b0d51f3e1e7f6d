package channel

import (
	"github.com/ebmflow/ebmflow/internal/wire"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// ErrorAnswer encodes err (a gRPC status error, or any error as Unknown)
// as an answer: its code and the google.rpc.Status as meta.
func ErrorAnswer(err error) (uint32, []byte, []wire.Named) {
	st := status.Convert(err)
	b, merr := proto.Marshal(st.Proto())
	if merr != nil {
		b, _ = proto.Marshal(status.New(st.Code(), st.Message()).Proto())
	}
	code := uint32(st.Code())
	if code == 0 {
		code = uint32(codes.Unknown)
	}
	return code, b, nil
}

func internalError(err error) (uint32, []byte, []wire.Named) {
	return ErrorAnswer(status.Error(codes.Internal, err.Error()))
}

// Err returns the answer's error: nil for code 0, else the gRPC status
// error it carries, details included.
func (a *Answer) Err() error {
	if a.Code == 0 {
		return nil
	}
	var sp spb.Status
	if err := proto.Unmarshal(a.Meta, &sp); err != nil || sp.GetCode() != int32(a.Code) {
		return status.Errorf(codes.Code(a.Code), "(an error status the peer sent could not be decoded)")
	}
	return status.ErrorProto(&sp)
}
