package blsverify

import (
	"bytes"
	"errors"
	"testing"
)

// The suite runs these on their seeds only; `go test -fuzz` explores. Both
// hold the parsers to: no panic, a classified error or a canonical point
// (the accepted bytes are its only encoding) that behaves as a key or
// signature. crypto's FuzzBLSDecodersAgree also holds them to blst.

func FuzzParsePublicKey(f *testing.F) {
	k := newTestKey(f, "fuzz", 0)
	sig := k.sign(f, []byte("m"))
	f.Add(k.pk.Bytes())
	f.Add(make([]byte, PublicKeySize))
	inf := make([]byte, PublicKeySize)
	inf[0] = 0xc0
	f.Add(inf)
	neg := k.pk.Bytes()
	neg[0] ^= 0x20
	f.Add(neg)
	f.Add(sig.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParsePublicKey(b)
		if err != nil {
			if pk != nil {
				t.Fatal("key returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if !bytes.Equal(pk.Bytes(), b) {
			t.Fatalf("accepted %x but encodes as %x", b, pk.Bytes())
		}
		if !pk.p.IsOnCurve() || !pk.p.IsInSubGroup() || pk.p.IsInfinity() {
			t.Fatal("accepted a point off the subgroup or at infinity")
		}
		if err := Verify(pk, []byte("m"), sig); err == nil && !pk.Equal(k.pk) {
			t.Fatal("foreign signature verified")
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	k := newTestKey(f, "fuzz", 0)
	sig := k.sign(f, []byte("m"))
	f.Add(sig.Bytes())
	f.Add(k.pop(f).Bytes())
	f.Add(make([]byte, SignatureSize))
	inf := make([]byte, SignatureSize)
	inf[0] = 0xc0
	f.Add(inf)
	neg := sig.Bytes()
	neg[0] ^= 0x20
	f.Add(neg)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSignature(b)
		if err != nil {
			if s != nil {
				t.Fatal("signature returned with an error")
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if !bytes.Equal(s.Bytes(), b) {
			t.Fatalf("accepted %x but encodes as %x", b, s.Bytes())
		}
		if !s.p.IsOnCurve() || !s.p.IsInSubGroup() || s.p.IsInfinity() {
			t.Fatal("accepted a point off the subgroup or at infinity")
		}
		if err := Verify(k.pk, []byte("m"), s); (err == nil) != bytes.Equal(b, sig.Bytes()) {
			t.Fatalf("verify %x: %v", b, err)
		}
	})
}
