package crypto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// lightKeystore is a fast scrypt setting for tests; it protects nothing.
var lightKeystore = KeystoreOptions{ScryptN: 1 << 4}

// eip2335Password is the EIP-2335 test password, "testpassword" in
// mathematical Fraktur letters plus a key emoji; NFKD folds the letters
// to ASCII.
const eip2335Password = "\U0001D531\U0001D522\U0001D530\U0001D531\U0001D52D\U0001D51E\U0001D530\U0001D530\U0001D534\U0001D52C\U0001D52F\U0001D521\U0001F511"

const (
	eip2335Secret = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
	eip2335Salt   = "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
	eip2335IV     = "264daa3f303d7259501c93d997d84fe6"
	eip2335Pubkey = "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07"
)

// The two keystores of EIP-2335's test cases.
const eip2335Scrypt = `{
    "crypto": {
        "kdf": {"function": "scrypt", "params": {"dklen": 32, "n": 262144, "p": 1, "r": 8,
            "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"}, "message": ""},
        "checksum": {"function": "sha256", "params": {}, "message": "d2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484"},
        "cipher": {"function": "aes-128-ctr", "params": {"iv": "264daa3f303d7259501c93d997d84fe6"},
            "message": "06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f"}
    },
    "description": "This is a test keystore that uses scrypt to secure the secret.",
    "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07",
    "path": "m/12381/60/3141592653/589793238",
    "uuid": "1d85ae20-35c5-4611-98e8-aa14a633906f",
    "version": 4
}`

const eip2335PBKDF2 = `{
    "crypto": {
        "kdf": {"function": "pbkdf2", "params": {"dklen": 32, "c": 262144, "prf": "hmac-sha256",
            "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"}, "message": ""},
        "checksum": {"function": "sha256", "params": {}, "message": "8a9f5d9912ed7e75ea794bc5a89bca5f193721d30868ade6f73043c6ea6febf1"},
        "cipher": {"function": "aes-128-ctr", "params": {"iv": "264daa3f303d7259501c93d997d84fe6"},
            "message": "cee03fde2af33149775b7223e7845e4fb2c8ae1792e5f99fe9ecf474cc8c16ad"}
    },
    "description": "This is a test keystore that uses PBKDF2 to secure the secret.",
    "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07",
    "path": "m/12381/60/0/0",
    "uuid": "64625def-3331-4eea-ab6f-782f3ed16a83",
    "version": 4
}`

func TestKeystorePasswordNormalization(t *testing.T) {
	got, err := normalizeKeystorePassword([]byte(eip2335Password))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != "7465737470617373776f7264f09f9491" {
		t.Fatalf("normalized password %x", got)
	}
	// Control codes (C0, DEL, C1) are removed, other characters kept.
	got, _ = normalizeKeystorePassword([]byte("a\x00b\tc\x7fd\u0085e\u009ff\u00a0g"))
	if string(got) != "abcdef g" { // NFKD folds U+00A0 to a space
		t.Fatalf("control codes: %q", got)
	}
	// The caller's buffer is not modified.
	in := []byte("pass\x01word")
	if _, err := normalizeKeystorePassword(in); err != nil || string(in) != "pass\x01word" {
		t.Fatalf("input modified: %q %v", in, err)
	}
	if _, err := normalizeKeystorePassword([]byte{0xff, 0xfe}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
}

// TestKeystoreEIP2335Vectors decrypts both official test keystores and
// reproduces the scrypt one bit for bit from the same salt and IV.
func TestKeystoreEIP2335Vectors(t *testing.T) {
	secret, _ := hex.DecodeString(eip2335Secret)
	for name, ks := range map[string]string{"scrypt": eip2335Scrypt, "pbkdf2": eip2335PBKDF2} {
		got, err := DecryptKeystore([]byte(ks), []byte(eip2335Password))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, secret) {
			t.Fatalf("%s: secret %x", name, got)
		}
		if _, err := DecryptKeystore([]byte(ks), []byte("testpassword")); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("%s without the key emoji: %v", name, err)
		}
	}
	salt, _ := hex.DecodeString(eip2335Salt)
	iv, _ := hex.DecodeString(eip2335IV)
	pub, _ := hex.DecodeString(eip2335Pubkey)
	rand := bytes.NewReader(append(append(salt, iv...), make([]byte, 16)...))
	out, err := EncryptKeystore(secret, []byte(eip2335Password), "d", pub, rand)
	if err != nil {
		t.Fatal(err)
	}
	var ks keystoreJSON
	if err := json.Unmarshal(out, &ks); err != nil {
		t.Fatal(err)
	}
	if ks.Crypto.Cipher.Message != "06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f" ||
		ks.Crypto.Checksum.Message != "d2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484" {
		t.Fatalf("encryption differs from EIP-2335: cipher %s checksum %s", ks.Crypto.Cipher.Message, ks.Crypto.Checksum.Message)
	}
}

func TestKeystoreRoundTrip(t *testing.T) {
	k := mustBLSKey(t, "keystore", 0)
	out, err := EncryptKeystoreWithOptions(k.Bytes(), []byte("correct horse"), "validator 0", k.PublicKey().Bytes(), nil, lightKeystore)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != float64(4) || doc["path"] != "" || doc["description"] != "validator 0" || doc["pubkey"] != hex.EncodeToString(k.PublicKey().Bytes()) {
		t.Fatalf("keystore fields: %v", doc)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(doc["uuid"].(string)) {
		t.Fatalf("uuid %q is not a version-4 UUID", doc["uuid"])
	}
	crypto := doc["crypto"].(map[string]any)
	for mod, fn := range map[string]string{"kdf": "scrypt", "checksum": "sha256", "cipher": "aes-128-ctr"} {
		if crypto[mod].(map[string]any)["function"] != fn {
			t.Fatalf("%s function %v", mod, crypto[mod])
		}
	}
	secret, err := DecryptKeystore(out, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseBLSPrivateKey(secret)
	if err != nil || !k2.PublicKey().Equal(k.PublicKey()) {
		t.Fatalf("decrypted key differs: %v", err)
	}
	// Passwords are compared after normalization: a control code changes
	// nothing, another character does.
	if _, err := DecryptKeystore(out, []byte("correct\x7f horse")); err != nil {
		t.Fatalf("password with DEL: %v", err)
	}
	if _, err := DecryptKeystore(out, []byte("correct horsE")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	// Two encryptions of one secret differ (fresh salt, IV, UUID).
	out2, _ := EncryptKeystoreWithOptions(k.Bytes(), []byte("correct horse"), "validator 0", nil, nil, lightKeystore)
	if bytes.Equal(out, out2) {
		t.Fatal("two encryptions are identical")
	}
}

func TestKeystoreOptions(t *testing.T) {
	var o KeystoreOptions
	o.EnsureDefaults()
	if o.ScryptN != 1<<18 || o.ScryptR != 8 || o.ScryptP != 1 {
		t.Fatalf("defaults %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, bad := range []KeystoreOptions{{ScryptN: 3, ScryptR: 8, ScryptP: 1}, {ScryptN: 1 << 19, ScryptR: 8, ScryptP: 1}, {ScryptN: 1 << 10, ScryptR: 8, ScryptP: 9}, {ScryptN: -2, ScryptR: 8, ScryptP: 1}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
		if _, err := EncryptKeystoreWithOptions([]byte{1}, nil, "", nil, nil, bad); err == nil {
			t.Errorf("encrypt with %+v accepted", bad)
		}
	}
	if _, err := EncryptKeystoreWithOptions(nil, nil, "", nil, nil, lightKeystore); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty secret: %v", err)
	}
	if _, err := EncryptKeystoreWithOptions([]byte{1}, nil, "", nil, bytes.NewReader(nil), lightKeystore); err == nil {
		t.Error("no randomness accepted")
	}
}

// mutateKeystore decodes a keystore into generic JSON, applies f and
// re-encodes it.
func mutateKeystore(t *testing.T, ks []byte, f func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(ks, &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func module(doc map[string]any, name string) map[string]any {
	return doc["crypto"].(map[string]any)[name].(map[string]any)
}

func params(doc map[string]any, name string) map[string]any {
	return module(doc, name)["params"].(map[string]any)
}

func TestKeystoreRejects(t *testing.T) {
	pw := []byte("pw")
	good, err := EncryptKeystoreWithOptions([]byte("a secret of 32 bytes, more or so"), pw, "", nil, nil, lightKeystore)
	if err != nil {
		t.Fatal(err)
	}
	pbkdf2Doc := mutateKeystore(t, []byte(eip2335PBKDF2), func(map[string]any) {})

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"truncated", good[:len(good)/2], ErrMalformed},
		{"not JSON", []byte("version: 4"), ErrMalformed},
		{"oversized", append(bytes.Clone(good), bytes.Repeat([]byte(" "), MaxKeystoreSize)...), ErrMalformed},
		{"version 3", mutateKeystore(t, good, func(d map[string]any) { d["version"] = 3 }), errors.ErrUnsupported},
		{"kdf argon2", mutateKeystore(t, good, func(d map[string]any) { module(d, "kdf")["function"] = "argon2id" }), errors.ErrUnsupported},
		{"cipher aes-256-gcm", mutateKeystore(t, good, func(d map[string]any) { module(d, "cipher")["function"] = "aes-256-gcm" }), errors.ErrUnsupported},
		{"checksum keccak", mutateKeystore(t, good, func(d map[string]any) { module(d, "checksum")["function"] = "keccak256" }), errors.ErrUnsupported},
		{"pbkdf2 sha512", mutateKeystore(t, pbkdf2Doc, func(d map[string]any) { params(d, "kdf")["prf"] = "hmac-sha512" }), errors.ErrUnsupported},
		{"huge scrypt n", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["n"] = 1 << 30 }), ErrMalformed},
		{"scrypt n just above the cap", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["n"] = 1 << 19 }), ErrMalformed},
		{"huge scrypt r", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["r"] = 1 << 24 }), ErrMalformed},
		{"huge r with tiny n", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["n"] = 2; params(d, "kdf")["r"] = 1 << 20 }), ErrMalformed},
		{"huge scrypt p", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["p"] = 1 << 20 }), ErrMalformed},
		{"scrypt n not a power of two", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["n"] = 1000 }), ErrMalformed},
		{"scrypt n negative", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["n"] = -16 }), ErrMalformed},
		{"scrypt n fractional", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["n"] = 16.5 }), ErrMalformed},
		{"scrypt r zero", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["r"] = 0 }), ErrMalformed},
		{"huge pbkdf2 c", mutateKeystore(t, pbkdf2Doc, func(d map[string]any) { params(d, "kdf")["c"] = 1 << 40 }), ErrMalformed},
		{"pbkdf2 c zero", mutateKeystore(t, pbkdf2Doc, func(d map[string]any) { params(d, "kdf")["c"] = 0 }), ErrMalformed},
		{"dklen 16", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["dklen"] = 16 }), ErrMalformed},
		{"short salt", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["salt"] = "abcd" }), ErrMalformed},
		{"salt not hex", mutateKeystore(t, good, func(d map[string]any) { params(d, "kdf")["salt"] = strings.Repeat("zz", 32) }), ErrMalformed},
		{"kdf params missing", mutateKeystore(t, good, func(d map[string]any) { delete(module(d, "kdf"), "params") }), ErrMalformed},
		{"kdf params wrong type", mutateKeystore(t, good, func(d map[string]any) { module(d, "kdf")["params"] = "n=16" }), ErrMalformed},
		{"short iv", mutateKeystore(t, good, func(d map[string]any) { params(d, "cipher")["iv"] = "00ff" }), ErrMalformed},
		{"empty ciphertext", mutateKeystore(t, good, func(d map[string]any) { module(d, "cipher")["message"] = "" }), ErrMalformed},
		{"huge ciphertext", mutateKeystore(t, good, func(d map[string]any) {
			module(d, "cipher")["message"] = strings.Repeat("00", MaxKeystoreSecretSize+1)
		}), ErrMalformed},
		{"odd ciphertext", mutateKeystore(t, good, func(d map[string]any) { module(d, "cipher")["message"] = "abc" }), ErrMalformed},
		{"short checksum", mutateKeystore(t, good, func(d map[string]any) { module(d, "checksum")["message"] = "00" }), ErrMalformed},
		{"tampered ciphertext", mutateKeystore(t, good, func(d map[string]any) {
			m := []byte(module(d, "cipher")["message"].(string))
			if m[0] == '0' { // stay a hex digit
				m[0] = '1'
			} else {
				m[0] = '0'
			}
			module(d, "cipher")["message"] = string(m)
		}), ErrWrongPassword},
		{"tampered salt", mutateKeystore(t, good, func(d map[string]any) {
			params(d, "kdf")["salt"] = strings.Repeat("ab", 32)
		}), ErrWrongPassword},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecryptKeystore(c.data, pw)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "crypto: decrypt keystore: ") {
				t.Fatalf("error %q lacks context", err)
			}
		})
	}
	if _, err := DecryptKeystore(good, []byte("wrong")); !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("wrong password: %v", err)
	}
	// Random truncations and byte flips never panic and never decrypt to
	// something else silently.
	rng := mrand.New(mrand.NewPCG(13, 14))
	for range 200 {
		b := bytes.Clone(good)
		switch rng.IntN(2) {
		case 0:
			b = b[:rng.IntN(len(b))]
		case 1:
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		secret, err := DecryptKeystore(b, pw)
		if err == nil && !bytes.Equal(secret, []byte("a secret of 32 bytes, more or so")) {
			t.Fatalf("corrupted file decrypted to %q", secret)
		}
	}
}
