package engine

import (
	"testing"

	"github.com/dagd/dagd/dag"
)

// TestContentKindsApartFromDAG: content frames and consensus frames share
// the first byte of a frame on one transport; Node.receive routes by it,
// so no content kind may be a dag message kind (dag owns its range,
// dag.Kind.Valid).
func TestContentKindsApartFromDAG(t *testing.T) {
	for k := 0; k < 256; k++ {
		if isContentFrame([]byte{byte(k)}) && dag.Kind(k).Valid() {
			t.Errorf("frame kind %#x is both a content kind and dag's %s", k, dag.Kind(k))
		}
	}
	if !isContentFrame([]byte{kindUploadBegin}) || isContentFrame([]byte{byte(dag.KindBatch)}) {
		t.Error("isContentFrame misroutes")
	}
}
