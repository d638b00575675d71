package dag_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagbls"
)

// TestPrimaryScripts runs the scripts in testdata/primary: each steps
// messages and ticks into validator 0 of a committee of four (equal
// stake, real BLS keys from fixed seeds, chain "test-chain") and prints
// everything the node produces, so that the protocol can be read from
// its tests. Run with -rewrite to regenerate the expected output after a
// deliberate change, and read the diff.
//
// Commands (names: a header and its certificate are named r<round>v<author>
// unless name= says otherwise; genesis certificates are g0..g3):
//
//	tick now=<ms>                            advance the clock
//	header author=<a> round=<r> [ts=<ms>] [parents=<names>] [chain=<id>] [name=<n>] [from=<v>]
//	                                         a header signed by its author (parents default to
//	                                         every certificate known of the round before, ts
//	                                         to now); a name made before sends that header again
//	vote voter=<v> header=<name> [chain=<id>] a vote of v for a header
//	cert header=<name> signers=<ids> [chain=<id>] [from=<v>] [hold] [forge]
//	                                         a certificate; hold makes it without sending it,
//	                                         forge signs it with a signature of something else
//	certresp from=<v> certs=<names>          a certificate response
//	certreq from=<v> certs=<names>           a certificate request
//	restart                                  a new node restored from every record persisted
//	status                                   the node's progress
//
// After each command the output lists: the Step result, the records to
// persist, the messages to send, commits, evidence, refusals and
// misbehaving peers, then the signatures the node made and checked.
func TestPrimaryScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/primary", func(t *testing.T, path string) {
		e := newScriptEnv(t)
		datadriven.RunTest(t, path, e.run)
	})
}

const scriptChain = "test-chain"

type scriptEnv struct {
	t      *testing.T
	keys   []*crypto.BLSPrivateKey
	bc     *crypto.BLSCommittee
	c      *dag.Committee
	n      *dag.Node
	cv     *countingVerifier
	signer *countingSigner
	now    dag.Time
	// names name every header (and its certificate) the script or the
	// node made; byName finds them.
	names   map[crypto.Digest]string
	headers map[string]*dag.Header
	certs   map[string]*dag.Certificate
	// records is what the node asked to persist, for restart.
	records map[string]dag.Record
}

func newScriptEnv(t *testing.T) *scriptEnv {
	keys, bc, c := testCommittee(t)
	e := &scriptEnv{t: t, keys: keys, bc: bc, c: c, names: make(map[crypto.Digest]string),
		headers: make(map[string]*dag.Header), certs: make(map[string]*dag.Certificate), records: make(map[string]dag.Record)}
	for i, g := range dag.GenesisCertificates(c) {
		name := fmt.Sprintf("g%d", i)
		e.names[g.Digest()] = name
		e.headers[name], e.certs[name] = g.Header, g
	}
	e.n = e.newNode()
	return e
}

func (e *scriptEnv) newNode() *dag.Node {
	// The verifier's random scalars come from a fixed seed: the outcome of
	// a check never depends on them, but the script stays reproducible.
	e.cv = &countingVerifier{Verifier: dagbls.NewVerifier(e.bc, rand.NewChaCha8([32]byte{7}))}
	e.signer = &countingSigner{Signer: dagbls.NewSigner(e.keys[0])}
	n, err := dag.NewNode(dag.Config{ChainID: scriptChain, Self: 0, Committee: e.c, Signer: e.signer, Verifier: e.cv, Batches: noBatchStore{}})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// name returns the name of digest d ("?" and its short form if unnamed).
func (e *scriptEnv) name(d crypto.Digest) string {
	if s, ok := e.names[d]; ok {
		return s
	}
	return "?" + d.Short()
}

// learn names a header the node produced.
func (e *scriptEnv) learn(h *dag.Header, want string) string {
	if s, ok := e.names[h.Digest()]; ok {
		return s
	}
	if want == "" {
		want = fmt.Sprintf("r%dv%d", h.Round, h.Author)
	}
	for e.headers[want] != nil {
		want += "'"
	}
	e.names[h.Digest()] = want
	e.headers[want] = h
	return want
}

// nameList names digests, space-separated.
func (e *scriptEnv) nameList(ds []crypto.Digest) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = e.name(d)
	}
	return strings.Join(out, " ")
}

func (e *scriptEnv) run(t *testing.T, td *datadriven.TestData) string {
	var b strings.Builder
	signed, checked := e.signer.n.Load(), e.cv.total()
	var stepErr error
	stepped := true
	switch td.Cmd {
	case "tick":
		var now uint64
		td.ScanArgs(t, "now", &now)
		e.now = dag.Time(now)
		e.n.Tick(e.now)
		stepped = false
	case "header":
		var author, round uint64
		td.ScanArgs(t, "author", &author)
		td.ScanArgs(t, "round", &round)
		name := fmt.Sprintf("r%dv%d", round, author)
		td.MaybeScanArgs(t, "name", &name)
		h, ok := e.headers[name]
		if !ok || h.Author != dag.ValidatorID(author) || h.Round != round {
			// A new header; a name already made is sent again as it was.
			ts := uint64(e.now)
			td.MaybeScanArgs(t, "ts", &ts)
			h = dag.NewHeader(0, round, dag.ValidatorID(author), dag.Time(ts), nil, e.parents(t, td, round))
			h.Signature = e.keys[author].Sign(dag.SigningMessage(e.chain(t, td), 0, h.Digest()))
			if ok {
				t.Fatalf("%s: header name %q is taken", td.Pos, name)
			}
			e.learn(h, name)
		}
		stepErr = e.n.Step(e.from(t, td, author), h)
	case "vote":
		var voter uint64
		var header string
		td.ScanArgs(t, "voter", &voter)
		td.ScanArgs(t, "header", &header)
		h := e.header(t, header)
		sig := e.keys[voter].Sign(dag.SigningMessage(e.chain(t, td), 0, h.Digest()))
		stepErr = e.n.Step(dag.ValidatorID(voter), &dag.Vote{Epoch: 0, Round: h.Round, Origin: h.Author, Header: h.Digest(),
			Voter: dag.ValidatorID(voter), Signature: sig})
	case "cert":
		var header string
		var signers []uint64
		td.ScanArgs(t, "header", &header)
		td.ScanArgs(t, "signers", &signers)
		h := e.header(t, header)
		c := &dag.Certificate{Header: h, CommitteeSize: 4}
		var sigs [][]byte
		for _, s := range signers {
			c.Signers = append(c.Signers, dag.ValidatorID(s))
			msg := dag.SigningMessage(e.chain(t, td), 0, h.Digest())
			if td.HasArg("forge") {
				msg = []byte("something else")
			}
			sigs = append(sigs, e.keys[s].Sign(msg))
		}
		agg, err := crypto.AggregateBLSSignatures(sigs)
		if err != nil {
			t.Fatal(err)
		}
		c.Signature = agg
		if td.HasArg("forge") {
			header += "!"
		}
		e.certs[header] = c
		if td.HasArg("hold") {
			stepped = false
			break
		}
		stepErr = e.n.Step(e.from(t, td, uint64(h.Author)), c)
	case "certresp", "certreq":
		var from uint64
		var names []string
		td.ScanArgs(t, "from", &from)
		td.ScanArgs(t, "certs", &names)
		var m dag.Message
		if td.Cmd == "certresp" {
			r := &dag.CertResponse{}
			for _, s := range names {
				r.Certificates = append(r.Certificates, e.cert(t, s))
			}
			m = r
		} else {
			r := &dag.CertRequest{}
			for _, s := range names {
				r.Digests = append(r.Digests, e.header(t, s).Digest())
			}
			m = r
		}
		stepErr = e.n.Step(dag.ValidatorID(from), m)
	case "restart":
		recs := make([]dag.Record, 0, len(e.records))
		for _, r := range e.records {
			recs = append(recs, r)
		}
		slices.SortFunc(recs, func(a, b dag.Record) int { return bytes.Compare(a.Key, b.Key) })
		e.n = e.newNode()
		signed, checked = 0, 0
		if err := e.n.Restore(recs); err != nil {
			return fmt.Sprintf("restore: %v\n", err)
		}
		e.n.Tick(e.now)
		fmt.Fprintf(&b, "restored from %d records\n", len(recs))
		stepped = false
	case "status":
		st := e.n.Status()
		return fmt.Sprintf("round %d, committed round %d seq %d, pending certs %d\n",
			st.Round, st.LastCommittedRound, st.LastCommittedSeq, st.PendingCerts)
	default:
		t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
	}
	if stepped {
		if stepErr != nil {
			b.WriteString("refused\n")
		} else {
			b.WriteString("ok\n")
		}
	}
	// The records are kept (for restart) before Advance, as a driver
	// makes them durable before it advances.
	e.printReady(&b, e.n.Ready())
	e.n.Advance()
	if s := e.signer.n.Load() - signed; s > 0 {
		fmt.Fprintf(&b, "signatures made: %d\n", s)
	}
	if c := e.cv.total() - checked; c > 0 {
		fmt.Fprintf(&b, "signatures checked: %d\n", c)
	}
	return b.String()
}

func (e *scriptEnv) printReady(b *strings.Builder, rd dag.Ready) {
	// Name what the node made before printing the records that refer to it.
	msgs := make([]string, len(rd.Messages))
	for i, o := range rd.Messages {
		msgs[i] = e.describe(o.Msg)
	}
	for _, r := range rd.Persist {
		if r.Delete {
			delete(e.records, string(r.Key))
		} else {
			e.records[string(r.Key)] = r
		}
		fmt.Fprintln(b, dag.DescribeRecord(r, e.name))
	}
	for i, o := range rd.Messages {
		to := fmt.Sprintf("send to %d", o.To)
		if o.Broadcast {
			to = "broadcast"
		}
		fmt.Fprintf(b, "%s: %s\n", to, msgs[i])
	}
	for _, c := range rd.Committed {
		var certs []crypto.Digest
		for _, x := range c.Certificates {
			certs = append(certs, x.Digest())
		}
		fmt.Fprintf(b, "commit %d: leader %s at %d: %s\n", c.Seq, e.name(c.Leader.Digest()), c.Timestamp, e.nameList(certs))
	}
	for _, ev := range rd.Evidence {
		fmt.Fprintf(b, "evidence: %s and %s\n", e.name(ev.First.Digest()), e.name(ev.Second.Digest()))
	}
	for _, r := range rd.Rejected {
		fmt.Fprintf(b, "rejected %s from %d: %s\n", r.Kind, r.From, e.clean(r.Reason))
	}
	for _, m := range rd.Misbehaving {
		fmt.Fprintf(b, "misbehaving %d (%s): %s\n", m.Peer, m.Kind, e.clean(m.Reason))
	}
}

// clean names the digests an error mentions.
func (e *scriptEnv) clean(err error) string {
	s := err.Error()
	for d, n := range e.names {
		s = strings.ReplaceAll(s, d.Short(), n)
	}
	return s
}

func (e *scriptEnv) describe(m dag.Message) string {
	switch m := m.(type) {
	case *dag.Header:
		name := e.learn(m, "")
		return fmt.Sprintf("header %s at %d, parents %s", name, m.Timestamp, e.nameList(m.Parents))
	case *dag.Vote:
		return fmt.Sprintf("vote of %d for %s", m.Voter, e.name(m.Header))
	case *dag.Certificate:
		name := e.learn(m.Header, "")
		if _, ok := e.certs[name]; !ok {
			e.certs[name] = m
		}
		return fmt.Sprintf("cert %s signed by %v", name, m.Signers)
	case *dag.CertRequest:
		return "cert request " + e.nameList(m.Digests)
	case *dag.CertResponse:
		var ds []crypto.Digest
		for _, c := range m.Certificates {
			ds = append(ds, c.Digest())
		}
		return "cert response " + e.nameList(ds)
	case *dag.SyncRequest:
		return fmt.Sprintf("sync request from round %d", m.FromRound)
	}
	return fmt.Sprintf("%s", m.Kind())
}

func (e *scriptEnv) header(t *testing.T, name string) *dag.Header {
	h, ok := e.headers[name]
	if !ok {
		t.Fatalf("no header named %q", name)
	}
	return h
}

func (e *scriptEnv) cert(t *testing.T, name string) *dag.Certificate {
	c, ok := e.certs[name]
	if !ok {
		t.Fatalf("no certificate named %q", name)
	}
	return c
}

func (e *scriptEnv) chain(t *testing.T, td *datadriven.TestData) string {
	chain := scriptChain
	td.MaybeScanArgs(t, "chain", &chain)
	return chain
}

func (e *scriptEnv) from(t *testing.T, td *datadriven.TestData, def uint64) dag.ValidatorID {
	td.MaybeScanArgs(t, "from", &def)
	return dag.ValidatorID(def)
}

// parents returns the parents= certificates, or every certificate known
// of the round before round (genesis for round 1), in name order.
func (e *scriptEnv) parents(t *testing.T, td *datadriven.TestData, round uint64) []crypto.Digest {
	var names []string
	if !td.MaybeScanArgs(t, "parents", &names) {
		for name, c := range e.certs {
			if c.Round() == round-1 && !strings.HasSuffix(name, "!") {
				names = append(names, name)
			}
		}
		slices.Sort(names)
	}
	var ds []crypto.Digest
	for _, s := range names {
		ds = append(ds, e.cert(t, s).Digest())
	}
	return ds
}
