package contracts

import (
	"bytes"
	"errors"
	"sync"
	"testing"
)

var errDisk = errors.New("disk on fire")

// faultyStore fails Get or Set of keys with a given prefix byte.
type faultyStore struct {
	*memStore
	failGet, failSet byte
}

func (s *faultyStore) Get(k []byte) ([]byte, error) {
	if len(k) > 0 && k[0] == s.failGet {
		return nil, errDisk
	}
	return s.memStore.Get(k)
}

func (s *faultyStore) Set(k, v []byte) error {
	if len(k) > 0 && k[0] == s.failSet {
		return errDisk
	}
	return s.memStore.Set(k, v)
}

func TestStoreErrors(t *testing.T) {
	f := newFixture(t, Params{})
	tx := f.tx(0, NewTokenTransfer(digestOf("t"), f.pk(1), 1))
	for name, st := range map[string]*faultyStore{
		"get account": {memStore: f.st.clone(), failGet: PrefixAccount},
		"get balance": {memStore: f.st.clone(), failGet: PrefixBalance},
		"set account": {memStore: f.st.clone(), failSet: PrefixAccount},
	} {
		rc, err := f.m.Apply(f.env, st, tx)
		if !errors.Is(err, errDisk) || rc != nil {
			t.Errorf("%s: %v, %v", name, rc, err)
		}
	}
	if _, err := f.m.Slash(f.env, &faultyStore{memStore: f.st.clone(), failGet: PrefixEvidence}, 0, digestOf("e")); !errors.Is(err, errDisk) {
		t.Errorf("slash: %v", err)
	}
	if err := f.m.Genesis(&faultyStore{memStore: newMemStore(), failSet: PrefixValidator}, f.g); !errors.Is(err, errDisk) {
		t.Errorf("genesis: %v", err)
	}
}

func TestCorruptStateIsAnError(t *testing.T) {
	f := newFixture(t, Params{})
	tok := digestOf("t")
	_ = f.st.Set(BalanceKey(tok, f.pk(0)), []byte{1, 2, 3})
	if _, err := f.m.Apply(f.env, f.st, f.tx(0, NewTokenTransfer(tok, f.pk(1), 1))); !errors.Is(err, ErrMalformed) {
		t.Fatalf("corrupt balance: %v", err)
	}
	_ = f.st.Set(AccountKey(f.pk(2)), []byte{9})
	if _, err := f.m.Apply(f.env, f.st, f.tx(3, NewTransfer(f.pk(2), 1))); !errors.Is(err, ErrMalformed) {
		t.Fatalf("corrupt account: %v", err)
	}
}

// TestConcurrentApply runs one Module from several goroutines, each on
// its own store, as the shard executor does; run it with -race.
func TestConcurrentApply(t *testing.T) {
	f := newFixture(t, Params{})
	m := digestOf("concurrent")
	c := manifestCID(m)
	bm, sig := certify(t, f.bls, []int{0, 1, 2}, c, 1, 1, 2, m)
	op := NewRegisterContent(c, 1, 1, 2, m, bm, sig)
	tx := f.tx(0, op)
	var wg sync.WaitGroup
	receipts := make([][]byte, 4)
	for i := range receipts {
		st := f.st.clone()
		wg.Go(func() {
			rc, err := f.m.Apply(f.env, st, tx)
			if err != nil || !rc.OK() {
				t.Errorf("%v %+v", err, rc)
				return
			}
			receipts[i] = rc.Encode()
		})
	}
	wg.Wait()
	for _, r := range receipts[1:] {
		if !bytes.Equal(r, receipts[0]) {
			t.Fatal("receipts differ")
		}
	}
}
