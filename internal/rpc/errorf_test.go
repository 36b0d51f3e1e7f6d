package rpc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc/status"
)

// TestErrorNamesTheCallOnce: a plugin's error names the stage and the call
// once, whether or not the plugin's own message starts with the call's name
// (no "grad: grad:"), and keeps its sentinel's code.
func TestErrorNamesTheCallOnce(t *testing.T) {
	s := &baseServer{impl: testplugins.NewQuadratic(), stage: "energy"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("grad: output F: %w: element 0 is NaN", sdk.ErrNonFinite), `stage "energy": grad: output F: non-finite value: element 0 is NaN`},
		{errors.New("the batch is empty"), `stage "energy": grad: the batch is empty`},
		{errors.New("gradient of the wrong shape"), `stage "energy": grad: gradient of the wrong shape`},
	} {
		st, _ := status.FromError(s.errorf("grad", c.err))
		if st.Message() != c.want {
			t.Errorf("got %q\nwant %q", st.Message(), c.want)
		}
	}
}
