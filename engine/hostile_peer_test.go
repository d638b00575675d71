package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/internal/testwait"
)

// hostileFrame is a frame a committee member may send, and the reason
// its receiver must log when it refuses it.
type hostileFrame struct {
	name  string
	frame []byte
	// want are substrings of the logged rejection ("rejected message
	// from=3 kind=... reason=...").
	want []string
	// cert is the digest of the forged certificate, if the frame is one.
	cert crypto.Digest
}

// hostileFrames returns what validator 3 (holding bk, its real committee
// key) sends in TestHostilePeerRefused: certificates that claim a quorum
// they do not have, certificates whose signer bitmap names validators
// outside the committee, messages of another epoch, and truncated frames.
// round is a round at or a little ahead of the receivers', so that nothing
// is ignored as too old or too far ahead.
func hostileFrames(t *testing.T, bk *crypto.BLSPrivateKey, round uint64) []hostileFrame {
	t.Helper()
	ts := dag.Time(time.Now().UnixMilli())
	signed := func(epoch uint64, tag int) *dag.Header {
		// Another timestamp per frame: every certificate is new to the
		// receivers, none is dropped as already known.
		h := dag.NewHeader(epoch, round, 3, ts+dag.Time(tag), nil, nil)
		d := h.Digest()
		h.Signature = bk.Sign(d[:])
		return h
	}
	cert := func(h *dag.Header, size int, signers ...dag.ValidatorID) *dag.Certificate {
		d := h.Digest()
		return &dag.Certificate{Header: h, Signers: signers, CommitteeSize: size, Signature: bk.Sign(d[:])}
	}
	var out []hostileFrame
	add := func(name string, m dag.Message, want ...string) {
		f := hostileFrame{name: name, frame: dag.EncodeMessage(m), want: want}
		if c, ok := m.(*dag.Certificate); ok {
			f.cert = c.Digest()
		}
		out = append(out, f)
	}

	// Too little stake: two signers of four, one of them the sender.
	add("certificate below quorum", cert(signed(0, 1), 4, 0, 3), "kind=certificate", "signed by stake 2 below quorum 3")
	add("certificate with one signer", cert(signed(0, 2), 4, 3), "kind=certificate", "signed by stake 1 below quorum 3")
	// Duplicate signers: a bitmap cannot name a signer twice, so a
	// repeated signer collapses to one bit and the stake falls short...
	add("certificate with a repeated signer", cert(signed(0, 3), 4, 3, 3, 3), "kind=certificate", "signed by stake 1 below quorum 3")
	// ...and a quorum bitmap whose aggregate is the sender's signature
	// three times (one key standing in for three) fails the aggregate.
	dup := signed(0, 4)
	dd := dup.Digest()
	own := bk.Sign(dd[:])
	agg, err := crypto.AggregateBLSSignatures([][]byte{own, own, own})
	if err != nil {
		t.Fatal(err)
	}
	add("certificate with one signature counted thrice", &dag.Certificate{Header: dup, Signers: []dag.ValidatorID{0, 1, 3}, CommitteeSize: 4, Signature: agg},
		"kind=certificate", "aggregate signature")
	// Unknown signers: a bitmap of 8 validators for a committee of 4...
	add("certificate with a bitmap beyond the committee", cert(signed(0, 5), 8, 0, 1, 3, 5, 7), "kind=certificate", "signer bitmap of 8, committee of 4")
	// ...and bits set beyond the committee size the frame declares.
	bh := signed(0, 6)
	beyond := dag.EncodeMessage(cert(bh, 4, 0, 1, 3))
	beyond[1+len(bh.Encode())+2] |= 0xf0 // after the kind, the header and the committee size
	out = append(out, hostileFrame{name: "certificate with signer bits beyond its committee size", frame: beyond,
		want: []string{"kind=certificate", "signer bit 4 set beyond committee size 4"}, cert: bh.Digest()})

	// Another epoch.
	add("header of another epoch", signed(1, 7), "kind=header", "header of epoch 1, want 0")
	other := signed(1, 8)
	od := other.Digest()
	add("vote of another epoch", &dag.Vote{Epoch: 1, Round: round, Origin: 0, Header: od, Voter: 3, Signature: bk.Sign(od[:])},
		"kind=vote", "vote of epoch 1, want 0")
	add("certificate of another epoch", cert(signed(1, 9), 4, 0, 1, 3), "kind=certificate", "header of epoch 1, want 0")
	add("batch of another epoch", &dag.Batch{Epoch: 1, Author: 3, Transactions: [][]byte{[]byte("tx")}}, "kind=batch", "batch of epoch 1, want 0")

	// Truncated frames of each consensus message, and garbage kinds.
	full := dag.EncodeMessage(cert(signed(0, 10), 4, 0, 1, 3))
	out = append(out,
		hostileFrame{name: "truncated certificate", frame: full[:len(full)-10], want: []string{"kind=certificate", "truncated certificate signature"}},
		hostileFrame{name: "certificate cut in its header", frame: full[:40], want: []string{"kind=certificate", "truncated"}},
		hostileFrame{name: "certificate with a trailing byte", frame: append(bytes.Clone(full), 0), want: []string{"kind=certificate", "trailing bytes"}},
		hostileFrame{name: "kind byte only", frame: []byte{byte(dag.KindVote)}, want: []string{"kind=vote", "truncated vote version"}},
		hostileFrame{name: "unknown kind", frame: []byte{0x3f, 1, 2, 3}, want: []string{"kind=unknown", "unknown message kind"}},
	)
	vote := dag.EncodeMessage(&dag.Vote{Epoch: 0, Round: round, Origin: 0, Header: od, Voter: 3, Signature: bk.Sign(od[:])})
	out = append(out, hostileFrame{name: "truncated vote", frame: vote[:len(vote)-1], want: []string{"kind=vote", "truncated vote signature"}})
	return out
}

// TestHostilePeerRefused has validator 3, through its real QUIC transport
// and with its real committee keys, send validators 0-2 forged
// certificates (too little stake, repeated and unknown signers), messages
// of another epoch, and truncated and garbage frames, while the devnet
// commits. Validator 0 must refuse each with its reason in its log, and
// every validator must keep committing the same sequence.
// TestGarbageFromPeer (devnet_test.go) covers random bytes, bad signatures
// and forged senders; netquic's refuse_test.go covers unknown keys,
// oversize and truncated stream frames and garbage datagrams.
func TestHostilePeerRefused(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	capture := &captureHandler{}
	inj := &injector{}
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), Configure: func(i int, o *Options) {
		// Every frame must be read and refused with its reason: no ban
		// (TestHostileValidator covers the bans).
		o.PeerBanDuration = -1
		switch i {
		case 0:
			o.Logger = slog.New(capture)
		case 3:
			o.WrapTransport = inj.wrap
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	defer dumpOnFailure(t, d)()
	log := newDigestLog(t)
	log.follow(ctx, d.Subscribe(SubscribeOptions{}))
	// Every committed certificate, to show no forged one got in.
	var certsMu sync.Mutex
	committed := make(map[crypto.Digest]bool)
	certSub := d.Subscribe(SubscribeOptions{})
	defer certSub.Close()
	go func() {
		for c := range certSub.C() {
			certsMu.Lock()
			for _, x := range c.SubDAG.Certificates {
				committed[x.Digest()] = true
			}
			certsMu.Unlock()
		}
	}()
	testwait.Until(t, testTimeout, "first commits", func() bool { return log.minSeq(4) >= 2 })

	bk, _, err := DevnetKeys("dagd-devnet", 3)
	if err != nil {
		t.Fatal(err)
	}
	before := make([]uint64, 3)
	for i := range before {
		before[i] = d.Node(i).Status().LastCommittedSeq
	}
	start := log.minSeq(4)
	// A few rounds ahead, so that no certificate of validator 3 is
	// certified for that round yet when the forged ones arrive (a
	// conflict with a certified one is refused before any check).
	frames := hostileFrames(t, bk, d.Node(0).Status().Round+20)
	// QUIC streams are reliable, but the sender's queue may refuse a
	// frame when full: send everything a few times.
	// Each time after a commit, so that the queues drained in between
	// (three commits are a few rounds: the frames stay ahead).
	for round := range 3 {
		for _, f := range frames {
			for to := dag.ValidatorID(0); to < 3; to++ {
				inj.send(to, f.frame)
			}
		}
		testwait.Until(t, testTimeout, "a commit between two sends of the forged frames", func() bool { return log.minSeq(4) >= start+uint64(round)+1 })
	}
	testwait.Until(t, testTimeout, "commits to continue after the attack", func() bool { return log.minSeq(4) >= start+4 })
	for i, b := range before {
		if now := d.Node(i).Status().LastCommittedSeq; now <= b {
			t.Errorf("node %d: last committed seq %d, %d before the attack", i, now, b)
		}
	}
	// Every refusal is logged with its reason (the frames were handled
	// long before the commits went on; allow a little more time anyway).
	missing := frames
	_ = testwait.Poll(testwait.Timeout(t, 10*time.Second), func() error {
		var still []hostileFrame
		for _, f := range missing {
			if !capture.find(append([]string{"rejected", "from=3"}, f.want...)...) {
				still = append(still, f)
			}
		}
		missing = still
		if len(missing) > 0 {
			return fmt.Errorf("%d rejections not logged", len(missing))
		}
		return nil
	})
	for _, f := range missing {
		t.Errorf("%s: no rejection logged with %q", f.name, f.want)
	}
	certsMu.Lock()
	for _, f := range frames {
		if f.cert != (crypto.Digest{}) && committed[f.cert] {
			t.Errorf("%s: the forged certificate was committed", f.name)
		}
	}
	if len(committed) == 0 {
		t.Error("saw no committed certificates")
	}
	certsMu.Unlock()
	if t.Failed() {
		capture.mu.Lock()
		t.Logf("captured rejections:\n%s", strings.Join(capture.recs, "\n"))
		capture.mu.Unlock()
	}
	log.check()
}
