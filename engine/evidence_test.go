package engine

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagbls"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/internal/testwait"
)

// TestEquivocationEvidenceStored: validator 3 really equivocates (with
// its own key, through its own QUIC transport: TestHostileValidator's
// harness, one burst of its flood, whose headers conflict in one slot),
// and every honest node keeps the evidence once, serves it on
// GET /v1/evidence as evidence that checks against the committee, counts
// it in dagd_evidence_stored, and still has it after a restart.
func TestEquivocationEvidenceStored(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slot := &hostileLinkSlot{}
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, Execution: execution.Options{Disabled: true},
		Configure: func(i int, o *Options) {
			if i == 3 {
				o.WrapTransport = slot.wrap // muted: validator 3 sends only what the test makes it
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	defer dumpOnFailure(t, d)()
	honest := []int{0, 1, 2}
	link := slot.get()
	var r uint64
	var parents []crypto.Digest
	testwait.Until(t, testTimeout, "validator 3 sees a round certified by a quorum", func() bool {
		r, parents = link.latest()
		return r > 0
	})
	bk, _, err := DevnetKeys("dagd-devnet", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, frame := range newHostileFlood(bk, d.ChainID()).burst(r+1, parents, 0) {
		for to := dag.ValidatorID(0); to < 3; to++ {
			testwait.Until(t, testTimeout, "validator 3's transport takes its frame", func() bool { return link.inject(to, frame) })
		}
	}

	want := client.EvidenceCursor{Epoch: 0, Round: r + 1, Author: 3}
	// check reads node i's evidence through the Go client: exactly one
	// record, of the slot validator 3 equivocated in, that checks.
	check := func(i int) error {
		c, err := client.New(d.Node(i).APIAddr(), client.Options{})
		if err != nil {
			return err
		}
		p, err := c.Evidence(ctx, 0, "", 0)
		if err != nil {
			return err
		}
		if len(p.Evidence) != 1 || p.NextCursor != "" {
			return fmt.Errorf("node %d serves %d records (next %q), want 1", i, len(p.Evidence), p.NextCursor)
		}
		ei := p.Evidence[0]
		if got := (client.EvidenceCursor{Epoch: ei.Epoch, Round: ei.Round, Author: ei.Author}); got != want {
			return fmt.Errorf("node %d: evidence of %v, want %v", i, got, want)
		}
		ev, err := dag.DecodeEvidence(ei.Encoding)
		if err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		if err := ev.Check(dagbls.NewVerifier(d.Node(i).bls, rand.Reader), d.ChainID()); err != nil {
			return fmt.Errorf("node %d: evidence does not check: %w", i, err)
		}
		return nil
	}
	testwait.Until(t, testTimeout, "every honest node stores the evidence", func() bool {
		for _, i := range honest {
			if gaugeValue(t, d.Node(i), "dagd_evidence_stored") < 1 {
				return false
			}
		}
		return true
	})
	for _, i := range honest {
		if err := check(i); err != nil {
			t.Fatal(err)
		}
		if n := gaugeValue(t, d.Node(i), "dagd_evidence_stored"); n != 1 {
			t.Errorf("node %d: dagd_evidence_stored %v, want 1", i, n)
		}
		if n := gaugeValue(t, d.Node(i), "dagd_evidence_dropped_total"); n != 0 {
			t.Errorf("node %d: dagd_evidence_dropped_total %v, want 0", i, n)
		}
	}

	// A restart keeps it.
	if err := d.StopNode(0); err != nil {
		t.Fatal(err)
	}
	if err := d.StartNode(0); err != nil {
		t.Fatal(err)
	}
	if n := gaugeValue(t, d.Node(0), "dagd_evidence_stored"); n != 1 {
		t.Errorf("after a restart: dagd_evidence_stored %v, want 1", n)
	}
	testwait.For(t, testTimeout, func() error { return check(0) })
}
