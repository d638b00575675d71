package dag_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagsim"
)

func TestDebugSeed(t *testing.T) {
	seed, err := strconv.ParseUint(os.Getenv("DAGD_DEBUG_SEED"), 10, 64)
	if err != nil {
		t.Skip("set DAGD_DEBUG_SEED to inspect one simulator seed")
	}
	nodes := map[int]*dag.Node{}
	res := dagsim.Run(dagsim.Options{Validators: 4, Seed: seed, NodeHook: func(id int, n *dag.Node) { nodes[id] = n }})
	t.Logf("%+v", res)
	for id := 0; id < 4; id++ {
		if n := nodes[id]; n != nil {
			t.Logf("validator %d: %s\n  %s", id, dag.DebugState(n), dag.DebugPending(n))
		}
	}
}
