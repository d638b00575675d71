package store

import (
	"sort"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// TestKeyPrefixesDisjoint pins the key layout of keys.go: no prefix is a
// prefix of another, so a scan of one never returns another's keys, and
// the key bytes are those already on disk.
func TestKeyPrefixesDisjoint(t *testing.T) {
	ps := KeyPrefixes()
	names := make([]string, 0, len(ps))
	for name := range ps {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, a := range names {
		if ps[a] == "" {
			t.Errorf("%s is empty", a)
		}
		for _, b := range names {
			if a != b && strings.HasPrefix(ps[b], ps[a]) {
				t.Errorf("%s (%q) is a prefix of %s (%q)", a, ps[a], b, ps[b])
			}
		}
	}
	// The on-disk format: these bytes are in existing databases.
	want := map[string]string{
		"dagPrefix": "d/", "indexPrefix": "x/", "preservedPrefix": "e/b/", "certPrefix": "c/r/",
		"holdingPrefix": "c/h/", "ledgerPrefix": "c/l/", "ledgerCursorKey": "c/lc", "regPrefix": "c/g/",
		"evidencePrefix": "v/",
	}
	if len(want) != len(ps) {
		t.Errorf("%d prefixes, want %d: a new prefix belongs in this table too", len(ps), len(want))
	}
	for name, p := range want {
		if ps[name] != p {
			t.Errorf("%s = %q, want %q (the on-disk format)", name, ps[name], p)
		}
	}
	var d crypto.Digest
	d[0], d[31] = 1, 2
	if got := string(IndexKey(0x0102)); got != "x/\x00\x00\x00\x00\x00\x00\x01\x02" {
		t.Errorf("indexKey = %q", got)
	}
	if got := string(PreservedKey(d)); got != "e/b/"+string(d[:]) {
		t.Errorf("preservedKey = %q", got)
	}
	if got := string(DAGKey([]byte("k"))); got != "d/k" {
		t.Errorf("dagKey = %q", got)
	}
	if got := string(ContentKey(CertPrefix, []byte{7})); got != "c/r/\x07" {
		t.Errorf("contentKey = %q", got)
	}
	if got := string(EvidenceKey(EvidenceSlot{Epoch: 1, Round: 2, Author: 3})); got != "v/\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03" {
		t.Errorf("evidenceKey = %q", got)
	}
	if got := string(PrefixEnd(LedgerPrefix)); got != "c/l0" {
		t.Errorf("prefixEnd = %q", got)
	}
}
