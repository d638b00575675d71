package engine

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/engine/store"

	"github.com/cockroachdb/pebble/v2"
	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/internal/testwait"
	"github.com/dagd/dagd/shard"
)

// waitRegistered waits until node i's executed state records id and
// returns the registration as its stat shows it.
func waitRegistered(t *testing.T, d *Devnet, i int, id cid.Cid) *client.ContentRegistration {
	t.Helper()
	var r *client.ContentRegistration
	testwait.For(t, testTimeout, func() error {
		n := d.Node(i)
		if n == nil {
			return fmt.Errorf("node %d is not running", i)
		}
		if r = n.content.Inspect().Registration(id); !r.Registered || r.Tx == "" {
			return fmt.Errorf("node %d: %s not registered in the ledger: %+v", i, id, r)
		}
		return nil
	})
	return r
}

// TestContentLedgerRegistration: a put through node 1 is registered in
// the ledger by a RegisterContent transaction signed by node 1's account
// and submitted through its own intake; every node's executed state then
// records the CID with the put's coding and manifest digest, the receipt is
// OK, stat shows the commit and transaction, and the put's answer said the
// registration was pending or done.
func TestContentLedgerRegistration(t *testing.T) {
	d := contentDevnet(t, true, nil)
	data := randomContent(101, 700<<10)
	res := putBytes(t, d, 1, data, content.PutOptions{})
	if res.Registration == nil || !(res.Registration.Pending || res.Registration.Registered) {
		t.Fatalf("put's registration %+v, want pending", res.Registration)
	}
	var first *client.ContentRegistration
	for i := 0; i < d.Size(); i++ {
		r := waitRegistered(t, d, i, res.CID)
		if first == nil {
			first = r
		} else if *r != *first {
			t.Fatalf("node %d sees registration %+v, node 0 %+v", i, r, first)
		}
	}
	op := contracts.DevnetOperatorKey(d.opts.Seed, 1).Public()
	if first.Registrant != op.String() {
		t.Fatalf("registrant %s, want node 1's account %s", first.Registrant, op)
	}
	n0 := d.Node(0)
	rec, err := n0.content.Inspect().LedgerRecord(res.CID)
	if err != nil {
		t.Fatal(err)
	}
	if int(rec.K) != res.K || int(rec.N) != res.N || erasure.Hash(rec.Manifest) != res.ManifestDigest || rec.Size != uint64(len(data)) {
		t.Fatalf("ledger record %+v, put %+v", rec, res)
	}
	var txd crypto.Digest
	copy(txd[:], mustHex(t, first.Tx))
	rr, found, err := shard.ReadReceipt(n0.exec.State(), txd)
	if err != nil || !found || rr.Seq != first.Seq {
		t.Fatalf("receipt of %s: %+v %v %v", first.Tx, rr, found, err)
	}
	if rc, err := contracts.DecodeReceipt(rr.Receipt); err != nil || rc.Code != contracts.CodeOK {
		t.Fatalf("receipt %+v %v", rc, err)
	}
	st, err := d.Node(3).StatContent(context.Background(), res.CID)
	if err != nil || st.Ledger == nil || !st.Ledger.Registered || st.Ledger.Seq != first.Seq || st.Ledger.Tx != first.Tx {
		t.Fatalf("stat through node 3: %+v %v", st, err)
	}
	if v := metricValue(t, d.Node(1), "dagd_content_ledger_registrations_total"); v != 1 {
		t.Errorf("node 1 counted %v registrations, want 1", v)
	}
	// The same content put again through another node: registered
	// already, nothing submitted twice.
	again := putBytes(t, d, 2, data, content.PutOptions{})
	if !again.AlreadyRegistered || again.Registration == nil || !again.Registration.Registered || again.Registration.Seq != first.Seq {
		t.Fatalf("re-put: %+v", again.Registration)
	}
}

// mustHex decodes hex or fails.
func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hexDecode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gossipDeaf drops the certificate announcements and upload openings its
// node receives and the registry requests it sends: a node that receives
// no shard of a put and can learn of it only from the ledger.
type gossipDeaf struct {
	Transport
}

func (g gossipDeaf) Send(to dag.ValidatorID, frame []byte) error {
	if len(frame) > 0 && content.FrameKind(frame) == "registry_request" {
		return nil
	}
	return g.Transport.Send(to, frame)
}

func (g gossipDeaf) Receive(ctx context.Context) (InboundFrame, error) {
	for {
		f, err := g.Transport.Receive(ctx)
		if err != nil || len(f.Frame) == 0 || (content.FrameKind(f.Frame) != "register" && content.FrameKind(f.Frame) != "upload_begin") {
			return f, err
		}
	}
}

// TestContentLedgerDrivesRepair: node 3 receives nothing of a put (it
// never sees the upload open) and hears no gossip (no announcement, no
// registry pull). It learns of the content from the registration it
// executes, fetches the manifest, checks it against the ledger's digest
// and rebuilds its shards; with two other holders stopped, a get through
// it needs them and returns the content. Its local registry stays empty:
// the ledger alone drove the repair.
func TestContentLedgerDrivesRepair(t *testing.T) {
	d := contentDevnet(t, true, func(i int, o *Options) {
		o.Content.AuditInterval = 100 * time.Millisecond
		o.Content.RepairBackoffMin = 20 * time.Millisecond
		if i == 3 {
			o.WrapTransport = func(tr Transport) Transport { return gossipDeaf{tr} }
		}
	})
	data := randomContent(111, 1<<20+333)
	res := putBytes(t, d, 0, data, content.PutOptions{})
	if len(res.Unconfirmed) != 1 || res.Unconfirmed[0] != 3 {
		t.Fatalf("unconfirmed %v, want [3]", res.Unconfirmed)
	}
	waitRegistered(t, d, 3, res.CID)
	enc, _ := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	_, man, _ := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discardSink{})
	testwait.Until(t, testTimeout, "node 3 to rebuild its shards from the ledger's registration", func() bool { return shardsIntact(d, 3, res.CID, man) })
	if _, err := d.Node(3).content.Inspect().Certificate(res.CID); err == nil {
		t.Fatal("node 3 has the certificate in its local registry: gossip reached it, the test tests nothing")
	}
	for _, i := range []int{0, 1} {
		if err := d.StopNode(i); err != nil {
			t.Fatal(err)
		}
	}
	got, gr := getBytes(t, d, 3, res.CID)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	if gr.ShardsLocal == 0 {
		t.Fatal("the get used no shard of node 3")
	}
}

// TestContentLedgerIndexCatchUp: a node that lost its index of executed
// registrations (a crash before the index write) rebuilds it from the
// executed commits at its next start.
func TestContentLedgerIndexCatchUp(t *testing.T) {
	d := contentDevnet(t, true, nil)
	res := putBytes(t, d, 2, randomContent(121, 200<<10), content.PutOptions{})
	want := waitRegistered(t, d, 1, res.CID)
	if err := d.StopNode(1); err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open(d.DataDir(1)+"/pebble", &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRange([]byte(store.LedgerPrefix), store.PrefixEnd(store.LedgerPrefix), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete([]byte(store.LedgerCursorKey), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.StartNode(1); err != nil {
		t.Fatal(err)
	}
	if got := waitRegistered(t, d, 1, res.CID); *got != *want {
		t.Fatalf("after catch-up %+v, before %+v", got, want)
	}
}

// TestContentLocalRegistryFallback: where the ledger cannot register
// content, puts and gets still work from the local registry, and the node
// says why in its put answer, its stat and its log: a node without an
// account key, a node whose account is not funded, and a devnet that does
// not execute.
func TestContentLocalRegistryFallback(t *testing.T) {
	check := func(t *testing.T, d *Devnet, put int, want string) {
		t.Helper()
		data := randomContent(131, 300<<10)
		res := putBytes(t, d, put, data, content.PutOptions{})
		if got, _ := getBytes(t, d, (put+1)%4, res.CID); !bytes.Equal(got, data) {
			t.Fatal("content differs")
		}
		testwait.For(t, testTimeout, func() error {
			st, err := d.Node(put).StatContent(context.Background(), res.CID)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Registered {
				t.Fatal("no certificate in the local registry")
			}
			if st.Ledger.Registered {
				t.Fatalf("registered in the ledger: %+v", st.Ledger)
			}
			if !strings.Contains(st.Ledger.Reason, want) {
				return fmt.Errorf("stat says %q, want %q", st.Ledger.Reason, want)
			}
			return nil
		})

	}
	t.Run("no account", func(t *testing.T) {
		d := contentDevnet(t, true, func(i int, o *Options) { o.AccountKey = nil })
		check(t, d, 0, "no account key")
	})
	t.Run("unfunded account", func(t *testing.T) {
		d := contentDevnet(t, true, func(i int, o *Options) {
			o.AccountKey = crypto.AccountKeyFromSeed(crypto.Hash([]byte("nobody"), []byte{byte(i)}))
		})
		check(t, d, 1, "not funded")
	})
	t.Run("no execution", func(t *testing.T) {
		d := contentDevnet(t, true, func(i int, o *Options) { o.Execution.Disabled = true })
		check(t, d, 2, "does not execute")
	})
}
