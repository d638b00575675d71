package apiserver

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/client"
)

// TestEvidencePaging: GET /v1/evidence serves the stored equivocation
// records oldest first, in pages joined by their cursor, from an epoch
// on, within the response size (at least one record a page), as an
// empty list when there are none, and refuses bad parameters with a 400
// that names them.
func TestEvidencePaging(t *testing.T) {
	env := newTestServer(t, nil)
	c, err := client.New(strings.TrimPrefix(env.url, "http://"), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	status, body := get(t, env.url+"/v1/evidence")
	if status != http.StatusOK || !strings.Contains(string(body), `"evidence":[]`) || strings.Contains(string(body), "next_cursor") {
		t.Fatalf("empty: %d %s; want an empty list and no cursor", status, body)
	}

	var want []*dag.Evidence
	for _, s := range []struct {
		epoch, round uint64
		author       dag.ValidatorID
	}{{2, 3, 1}, {0, 5, 2}, {1, 1, 0}, {2, 3, 0}, {1, 7, 3}} {
		env.commits.addEvidence(s.epoch, s.round, s.author)
	}
	for _, se := range env.commits.evidence {
		want = append(want, se.Evidence)
	}
	// All of it, two at a time.
	var got []*client.EvidenceInfo
	pages, cursor := 0, ""
	for {
		p, err := c.Evidence(ctx, 0, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, p.Evidence...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d records in %d pages, want %d in 3", len(got), pages, len(want))
	}
	for i, ei := range got {
		ev, err := dag.DecodeEvidence(ei.Encoding)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		w := want[i]
		if !bytes.Equal(ei.Encoding, w.Encode()) || ei.Epoch != w.First.Epoch || ei.Round != w.First.Round ||
			ei.Author != uint16(w.First.Author) || ei.Digests[0] != ev.First.Digest().String() || ei.Digests[1] != ev.Second.Digest().String() {
			t.Fatalf("record %d: %+v, want the evidence of %+v", i, ei, w.First)
		}
	}
	// From epoch 2 on: the two of epoch 2, author 0 first.
	p, err := c.Evidence(ctx, 2, "", 0)
	if err != nil || len(p.Evidence) != 2 || p.Evidence[0].Author != 0 || p.Evidence[1].Author != 1 || p.NextCursor != "" {
		t.Fatalf("from epoch 2: %+v, %v", p, err)
	}

	// A response size below one record: one record a page, all reached.
	small := newTestServer(t, func(o *Options) { o.API.MaxResponseBytes = 10 })
	small.commits.addEvidence(1, 1, 1)
	small.commits.addEvidence(1, 2, 1)
	var sp client.EvidencePage
	getJSON(t, small.url+"/v1/evidence", &sp)
	if len(sp.Evidence) != 1 || sp.NextCursor != "1.2.1" {
		t.Fatalf("small answers: %+v, want one record and the cursor of the next", sp)
	}
	var sp2 client.EvidencePage
	getJSON(t, small.url+"/v1/evidence?cursor="+sp.NextCursor, &sp2)
	if len(sp2.Evidence) != 1 || sp2.Evidence[0].Round != 2 || sp2.NextCursor != "" {
		t.Fatalf("small answers, second page: %+v", sp2)
	}

	for q, name := range map[string]string{
		"from_epoch=-1": "from_epoch", "from_epoch=x": "from_epoch", "limit=0": "limit", "limit=101": "limit",
		"limit=two": "limit", "cursor=bad": "cursor", "cursor=1.2": "cursor", "cursor=1.2.70000": "cursor",
		"from_epoch=1&cursor=1.2.3": "from_epoch and cursor",
	} {
		status, body := get(t, env.url+"/v1/evidence?"+q)
		if status != http.StatusBadRequest || errorReason(t, body) != client.ReasonBadRequest || !strings.Contains(string(body), name) {
			t.Errorf("?%s: %d %s; want 400 bad_request naming %s", q, status, body, name)
		}
	}
}
