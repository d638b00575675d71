package engine

import (
	"encoding/json"
	"testing"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/shard"
)

// TestExecCountsWire: the commit endpoints serve the executor's counts as
// client.ExecCounts, a conversion of shard.Counts (the compiler checks the
// fields); their JSON must be the same too, tag for tag.
func TestExecCountsWire(t *testing.T) {
	c := shard.Counts{Received: 1, Malformed: 2, Duplicate: 3, Expired: 4, TooFar: 5, Receipts: 6, BadSignature: 7, Applied: 8, OK: 9, Unpaid: 10}
	want, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(client.ExecCounts(c))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("client.ExecCounts serves %s, shard.Counts is %s", got, want)
	}
}
