package shard

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// testMachine is a test double of the token module: accounts with
// balances, and counters whose updates do not commute, so that any
// reordering of conflicting transactions changes the roots.
//
// A transaction is 33 bytes: kind u8, a u16, b u16, c u16, amount u64,
// expiry u64, salt u64, signer u8, bad u8 (1: its signature is corrupted).
type testMachine struct {
	sigs []crypto.AccountSig // per signer: a signature of testSigMsg
}

const (
	kindTransfer   = 1 // acct a -> acct b
	kindCounter    = 2 // ctr a = ctr a * 31 + salt
	kindSweep      = 3 // acct a -> acct b and acct c, ctr b ^= amount; deletes acct a when emptied
	kindUndeclared = 4 // declares acct a, reads acct b (a machine bug)
	testTxSize     = 33
	testSigners    = 3
)

var testSigMsg = []byte("dagd/shard/test")

func newTestMachine() *testMachine {
	m := &testMachine{}
	for i := range testSigners {
		var seed [32]byte
		seed[0] = byte(i + 1)
		k := crypto.AccountKeyFromSeed(seed)
		m.sigs = append(m.sigs, crypto.AccountSig{PublicKey: k.Public(), Msg: testSigMsg, Sig: k.Sign(testSigMsg)})
	}
	return m
}

type testTx struct {
	kind         byte
	a, b, c      uint16
	amount       uint64
	expiry, salt uint64
	signer, bad  byte
}

func (tx *testTx) encode() []byte {
	b := make([]byte, 0, testTxSize)
	b = append(b, tx.kind)
	b = binary.BigEndian.AppendUint16(b, tx.a)
	b = binary.BigEndian.AppendUint16(b, tx.b)
	b = binary.BigEndian.AppendUint16(b, tx.c)
	b = binary.BigEndian.AppendUint64(b, tx.amount)
	b = binary.BigEndian.AppendUint64(b, tx.expiry)
	b = binary.BigEndian.AppendUint64(b, tx.salt)
	return append(b, tx.signer, tx.bad)
}

func acctKey(i uint16) []byte { return binary.BigEndian.AppendUint16([]byte("acct/"), i) }
func ctrKey(i uint16) []byte  { return binary.BigEndian.AppendUint16([]byte("ctr/"), i%16) }

func (m *testMachine) Decode(raw []byte) (*testTx, TxInfo, error) {
	if len(raw) != testTxSize {
		return nil, TxInfo{}, fmt.Errorf("test tx of %d bytes", len(raw))
	}
	tx := &testTx{kind: raw[0], a: binary.BigEndian.Uint16(raw[1:]), b: binary.BigEndian.Uint16(raw[3:]), c: binary.BigEndian.Uint16(raw[5:]),
		amount: binary.BigEndian.Uint64(raw[7:]), expiry: binary.BigEndian.Uint64(raw[15:]), salt: binary.BigEndian.Uint64(raw[23:]),
		signer: raw[31], bad: raw[32]}
	if tx.kind < kindTransfer || tx.kind > kindUndeclared || int(tx.signer) >= testSigners || tx.bad > 1 {
		return nil, TxInfo{}, errors.New("test tx: bad field")
	}
	sig := m.sigs[tx.signer]
	if tx.bad == 1 {
		s := append([]byte(nil), sig.Sig...)
		s[0] ^= 1
		sig.Sig = s
	}
	return tx, TxInfo{Digest: crypto.Hash(raw), Expiry: tx.expiry, Sig: sig}, nil
}

func (m *testMachine) Keys(tx *testTx) [][]byte {
	switch tx.kind {
	case kindTransfer:
		return [][]byte{acctKey(tx.b), acctKey(tx.a)} // unsorted on purpose: plan sorts
	case kindCounter:
		return [][]byte{ctrKey(tx.a)}
	case kindSweep:
		return [][]byte{acctKey(tx.a), acctKey(tx.b), acctKey(tx.c), ctrKey(tx.b), acctKey(tx.a)} // a duplicate too
	default:
		return [][]byte{acctKey(tx.a)}
	}
}

func getU64(st Store, k []byte) (uint64, error) {
	v, err := st.Get(k)
	if err != nil || v == nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("value of %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func setU64(st Store, k []byte, v uint64) error {
	if v == 0 {
		return st.Delete(k)
	}
	return st.Set(k, binary.BigEndian.AppendUint64(nil, v))
}

type testReceipt struct {
	ok     bool
	unpaid bool // a transfer the sender cannot cover pays nothing
	data   []byte
}

func (r *testReceipt) OK() bool      { return r.ok }
func (r *testReceipt) Charged() bool { return !r.unpaid }
func (r *testReceipt) Encode() []byte {
	b := []byte{0}
	if r.ok {
		b[0] = 1
	}
	return append(b, r.data...)
}

func (m *testMachine) Apply(env Env, st Store, tx *testTx) (Receipt, error) {
	r := &testReceipt{data: binary.BigEndian.AppendUint64(nil, env.Time)}
	switch tx.kind {
	case kindTransfer, kindSweep:
		ba, err := getU64(st, acctKey(tx.a))
		if err != nil {
			return nil, err
		}
		if ba < tx.amount {
			r.data = binary.BigEndian.AppendUint64(r.data, ba)
			r.unpaid = tx.kind == kindTransfer // a sweep's failure is charged
			return r, nil
		}
		ba -= tx.amount
		if err := setU64(st, acctKey(tx.a), ba); err != nil {
			return nil, err
		}
		dests := []uint16{tx.b}
		amounts := []uint64{tx.amount}
		if tx.kind == kindSweep {
			dests = append(dests, tx.c)
			amounts = []uint64{tx.amount / 2, tx.amount - tx.amount/2}
		}
		for i, d := range dests {
			bd, err := getU64(st, acctKey(d))
			if err != nil {
				return nil, err
			}
			bd += amounts[i]
			if err := setU64(st, acctKey(d), bd); err != nil {
				return nil, err
			}
			r.data = binary.BigEndian.AppendUint64(r.data, bd)
		}
		if tx.kind == kindSweep {
			v, err := getU64(st, ctrKey(tx.b))
			if err != nil {
				return nil, err
			}
			if err := setU64(st, ctrKey(tx.b), v^tx.amount); err != nil {
				return nil, err
			}
		}
		r.ok = true
		r.data = binary.BigEndian.AppendUint64(r.data, ba)
	case kindCounter:
		v, err := getU64(st, ctrKey(tx.a))
		if err != nil {
			return nil, err
		}
		v = v*31 + tx.salt
		if err := setU64(st, ctrKey(tx.a), v); err != nil {
			return nil, err
		}
		r.ok = true
		r.data = binary.BigEndian.AppendUint64(r.data, v)
	case kindUndeclared:
		if _, err := st.Get(acctKey(tx.b)); err != nil {
			return nil, err
		}
		r.ok = true
	}
	return r, nil
}

// testGenesis funds accounts 0..n-1.
func testGenesis(n int) func(Store) error {
	return func(st Store) error {
		for i := range n {
			if err := setU64(st, acctKey(uint16(i)), 1_000_000); err != nil {
				return err
			}
		}
		return nil
	}
}
