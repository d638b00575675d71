package committeefile_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/crypto/blsverify"
	"github.com/dagd/dagd/crypto/digest"
	"github.com/dagd/dagd/engine/committeefile"
)

// The tests make keys with package crypto (blst, cgo): an external test
// package may import it, while the package itself stays cgo-free.

// members returns n valid, distinct members v0..v(n-1) with stake 1 and
// keys derived from label.
func members(tb testing.TB, label string, n int) []committeefile.Member {
	tb.Helper()
	out := make([]committeefile.Member, n)
	for i := range out {
		var idx [8]byte
		binary.BigEndian.PutUint64(idx[:], uint64(i))
		seed := digest.Hash([]byte("committeefile test key/"), []byte(label), idx[:])
		k, err := crypto.BLSKeyFromSeed(seed[:])
		if err != nil {
			tb.Fatal(err)
		}
		net := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
		out[i] = committeefile.Member{Name: "v" + strconv.Itoa(i), BLSPublicKey: k.PublicKey().Bytes(),
			ProofOfPossession: k.ProofOfPossession(), NetworkKey: committeefile.HexBytes(net),
			Address: "127.0.0.1:" + strconv.Itoa(7000+i), Stake: 1}
	}
	return out
}

// TestDecodeStrict: the file is read as engine/config always read it: an
// unknown field, trailing data, a truncation, bad hex and an oversized
// file are refused; what Marshal writes decodes to the same committee.
func TestDecodeStrict(t *testing.T) {
	com, err := committeefile.Assemble("c-1", 3, members(t, "strict", 4))
	if err != nil {
		t.Fatal(err)
	}
	good, err := com.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := committeefile.Parse(good)
	if err != nil {
		t.Fatalf("Parse of Marshal's output: %v", err)
	}
	if !reflect.DeepEqual(got, com) {
		t.Fatalf("round trip changed the committee:\n got %+v\nwant %+v", got, com)
	}
	big := append(bytes.Clone(good[:len(good)-2]), bytes.Repeat([]byte(" "), committeefile.MaxFileSize)...)
	big = append(big, good[len(good)-2:]...)
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"unknown field": {bytes.Replace(good, []byte(`"epoch"`), []byte(`"epoc": 1, "epoch"`), 1), `unknown field "epoc"`},
		"trailing data": {append(bytes.Clone(good), []byte("{}")...), "data after the JSON value"},
		"truncated":     {good[:len(good)/2], "unexpected EOF"},
		"bad hex":       {bytes.Replace(good, []byte(`"network_key": "`), []byte(`"network_key": "zz`), 1), "not hex"},
		"oversized":     {big, "exceeds 4194304 bytes"},
		"not an object": {[]byte(`[]`), "cannot unmarshal"},
	} {
		_, err := committeefile.Decode(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "committee file: ") {
			t.Errorf("%s: got %v, want an error with %q", name, err, tc.want)
		}
		if _, err := committeefile.Parse(tc.data); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
	// Decode does not validate; Parse does.
	bad := bytes.Replace(good, []byte(`"stake": 1`), []byte(`"stake": 0`), 1)
	if _, err := committeefile.Decode(bad); err != nil {
		t.Errorf("Decode validated: %v", err)
	}
	if _, err := committeefile.Parse(bad); err == nil || !strings.Contains(err.Error(), `validator 0 ("v0"): stake must be positive`) {
		t.Errorf("Parse of a zero stake: %v", err)
	}
}

// TestWriteFileLoad: WriteFile writes Marshal's bytes, and Load and
// LoadMember read back what was written.
func TestWriteFileLoad(t *testing.T) {
	dir := t.TempDir()
	ms := members(t, "write", 3)
	com, err := committeefile.Assemble("c-2", 0, ms)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "committee.json")
	if err := com.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := com.Marshal(); !bytes.Equal(onDisk, want) {
		t.Errorf("WriteFile wrote\n%s\nMarshal gives\n%s", onDisk, want)
	}
	got, err := committeefile.Load(path)
	if err != nil || !reflect.DeepEqual(got, com) {
		t.Fatalf("Load: %v, %+v", err, got)
	}
	mpath := filepath.Join(dir, "validator.json")
	if err := ms[1].WriteFile(mpath); err != nil {
		t.Fatal(err)
	}
	m, err := committeefile.LoadMember(mpath)
	if err != nil || !reflect.DeepEqual(*m, ms[1]) {
		t.Fatalf("LoadMember: %v, %+v", err, m)
	}
	if _, err := committeefile.Load(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestValidateRefusals: each thing a committee file can get wrong is
// refused with the validator's index and name; bad proofs of possession
// are found by the cgo-free verifier.
func TestValidateRefusals(t *testing.T) {
	good := members(t, "refuse", 3)
	other := members(t, "other", 1)[0]
	notAPoint := bytes.Repeat([]byte{0xff}, blsverify.PublicKeySize)
	for want, f := range map[string]func(m []committeefile.Member){
		`validator 0 ("v0"): proof of possession does not verify`: func(m []committeefile.Member) {
			m[0].ProofOfPossession, m[1].ProofOfPossession = m[1].ProofOfPossession, m[0].ProofOfPossession
		},
		`validator 2 ("v2"): proof of possession does not verify`: func(m []committeefile.Member) { m[2].ProofOfPossession = other.ProofOfPossession },
		`validator 1 ("v1"): bls_public_key: `:                    func(m []committeefile.Member) { m[1].BLSPublicKey = notAPoint },
		`validator 2 ("v2"): bls_public_key also used by validator 0`: func(m []committeefile.Member) {
			m[2].BLSPublicKey, m[2].ProofOfPossession = m[0].BLSPublicKey, m[0].ProofOfPossession
		},
		`validator 1 ("v1"): proof_of_possession of 47 bytes, want 48`: func(m []committeefile.Member) { m[1].ProofOfPossession = m[1].ProofOfPossession[:47] },
		`validator 2 ("v2"): bls_public_key of 95 bytes, want 96`:      func(m []committeefile.Member) { m[2].BLSPublicKey = m[2].BLSPublicKey[:95] },
		`validator 1 ("v1"): network_key of 31 bytes, want 32`:         func(m []committeefile.Member) { m[1].NetworkKey = m[1].NetworkKey[:31] },
		`validator 2 ("v2"): network_key also used by validator 1`:     func(m []committeefile.Member) { m[2].NetworkKey = m[1].NetworkKey },
		`validator 1 ("v0"): name also used by validator 0`:            func(m []committeefile.Member) { m[1].Name = "v0" },
		`validator 2 ("12"): name: "12": a name must not be a number`:  func(m []committeefile.Member) { m[2].Name = "12" },
		`validator 1 ("a b"): name: "a b": a name has only`:            func(m []committeefile.Member) { m[1].Name = "a b" },
		`validator 2 ("v2"): address also used by validator 0`:         func(m []committeefile.Member) { m[2].Address = m[0].Address },
		`validator 1 ("v1"): address: "nowhere"`:                       func(m []committeefile.Member) { m[1].Address = "nowhere" },
		`validator 1 ("v1"): address: "127.0.0.1:0": port 0`:           func(m []committeefile.Member) { m[1].Address = "127.0.0.1:0" },
		`validator 1 ("v1"): stake must be positive`:                   func(m []committeefile.Member) { m[1].Stake = 0 },
		`validator 2 ("v2"): total stake exceeds 1152921504606846976`: func(m []committeefile.Member) {
			m[0].Stake, m[1].Stake, m[2].Stake = 1<<59, 1<<59, 1
		},
	} {
		m := make([]committeefile.Member, len(good))
		copy(m, good)
		f(m)
		_, err := committeefile.Assemble("c", 0, m)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "committee: ") {
			t.Errorf("%s: got %v", want, err)
		}
	}
	// A bad proof of possession is classified by blsverify's sentinel.
	m := append([]committeefile.Member(nil), good...)
	m[0].ProofOfPossession = other.ProofOfPossession
	if _, err := committeefile.Assemble("c", 0, m); !errors.Is(err, blsverify.ErrBadProofOfPossession) {
		t.Errorf("bad proof of possession: %v does not wrap blsverify.ErrBadProofOfPossession", err)
	}
	for want, c := range map[string]*committeefile.Committee{
		`chain_id "": want 1 to 64 printable ASCII characters`: {Validators: good},
		`chain_id "a b": want 1 to 64`:                         {ChainID: "a b", Validators: good},
		"no validators":                                        {ChainID: "c"},
		"1025 validators exceed 1024":                          {ChainID: "c", Validators: make([]committeefile.Member, 1025)},
	} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

// TestFind: a validator is found by name, by index and by BLS key, and a
// missing one is named in the error.
func TestFind(t *testing.T) {
	ms := members(t, "find", 3)
	com, err := committeefile.Assemble("c", 0, ms)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref  string
		key  []byte
		want int
		err  string
	}{
		{ref: "v1", want: 1},
		{ref: "2", want: 2},
		{key: ms[2].BLSPublicKey, want: 2},
		{ref: "3", err: "validator index 3 outside a committee of 3"},
		{ref: "nobody", err: `no validator named "nobody"`},
		{key: []byte{1, 2}, err: "no validator has this node's BLS key 0102..."},
	} {
		got, err := com.Find(tc.ref, tc.key)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Find(%q, %x): %v, want %q", tc.ref, tc.key, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Find(%q, %x) = %d, %v; want %d", tc.ref, tc.key, got, err, tc.want)
		}
	}
}

// BenchmarkParse100 measures reading a committee file of 100 validators,
// dominated by the 100 proofs of possession checked in pure Go.
func BenchmarkParse100(b *testing.B) {
	com, err := committeefile.Assemble("bench", 0, members(b, "bench", 100))
	if err != nil {
		b.Fatal(err)
	}
	data, err := com.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := committeefile.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
