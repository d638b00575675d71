package shard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state"
)

func tokenKey(i int) *crypto.AccountPrivateKey {
	var seed [32]byte
	seed[0], seed[1], seed[31] = byte(i), byte(i>>8), 0x5d
	return crypto.AccountKeyFromSeed(seed)
}

// tokenGenesis funds accounts 0..n-1 and has one validator.
func tokenGenesis(t testing.TB, n int) *contracts.Genesis {
	t.Helper()
	g := &contracts.Genesis{ChainID: testChainID}
	for i := range n {
		g.Accounts = append(g.Accounts, contracts.GenesisAccount{PublicKey: tokenKey(i).Public(), Balance: 1_000_000_000})
	}
	bk, err := crypto.BLSKeyFromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	v := contracts.GenesisValidator{Stake: 1_000, Operator: tokenKey(0).Public()}
	copy(v.BLSPublicKey[:], bk.PublicKey().Bytes())
	copy(v.ProofOfPossession[:], bk.ProofOfPossession())
	g.Validators = append(g.Validators, v)
	return g
}

// genTokenWorkload returns random commits of signed token transactions
// among few hot accounts: native transfers, token creation, mints and
// transfers, NFT collections, mints and moves, with duplicates and bad
// signatures.
func genTokenWorkload(seed uint64, commits, perCommit, accounts int) []Commit {
	r := rand.New(rand.NewPCG(seed, 0x70c))
	keys := make([]*crypto.AccountPrivateKey, accounts+2) // the last two are unfunded
	for i := range keys {
		keys[i] = tokenKey(i)
	}
	nonces := make([]uint64, len(keys))
	type token struct {
		id     crypto.Digest
		issuer int
	}
	var tokens []token
	type coll struct {
		id      crypto.Digest
		creator int
		minted  uint64
	}
	var colls []coll
	var nfts []contracts.NFTID
	var all [][]byte
	now := uint64(5_000_000)
	var out []Commit
	pk := func() crypto.AccountPublicKey { return keys[r.IntN(len(keys))].Public() }
	for c := range commits {
		now += uint64(r.IntN(400))
		cm := Commit{Seq: uint64(c + 1), Time: now}
		for range perCommit/2 + r.IntN(perCommit) {
			if len(all) > 0 && r.IntN(25) == 0 {
				cm.Txs = append(cm.Txs, all[r.IntN(len(all))])
				continue
			}
			s := r.IntN(len(keys))
			if r.IntN(4) != 0 {
				s = r.IntN(3) // hot senders
			}
			nonce := nonces[s]
			var op contracts.Op
			switch k := r.IntN(20); {
			case k < 9:
				op = contracts.NewTransfer(pk(), uint64(r.IntN(2_000_000)))
			case k < 10:
				op = contracts.NewTokenCreate("Tok", "TK", 2, 1_000_000)
				tokens = append(tokens, token{contracts.TokenID(keys[s].Public(), nonce), s})
			case k < 13 && len(tokens) > 0:
				tk := tokens[r.IntN(len(tokens))]
				if r.IntN(4) != 0 {
					s, nonce = tk.issuer, nonces[tk.issuer]
				}
				op = contracts.NewTokenMint(tk.id, pk(), uint64(r.IntN(300_000)))
			case k < 15 && len(tokens) > 0:
				op = contracts.NewTokenTransfer(tokens[r.IntN(len(tokens))].id, pk(), uint64(r.IntN(100_000)))
			case k < 16:
				op = contracts.NewCollectionCreate("Coll", "CL")
				colls = append(colls, coll{id: contracts.CollectionID(keys[s].Public(), nonce), creator: s})
			case k < 18 && len(colls) > 0:
				cl := &colls[r.IntN(len(colls))]
				s, nonce = cl.creator, nonces[cl.creator]
				id := contracts.NFTID{Collection: cl.id, Index: cl.minted}
				cl.minted++
				nfts = append(nfts, id)
				op = contracts.NewNFTMint(id, pk(), []byte("meta"))
			case len(nfts) > 0:
				op = contracts.NewNFTTransfer(nfts[r.IntN(len(nfts))], pk())
			default:
				op = contracts.NewTransfer(pk(), 1)
			}
			tx := contracts.NewSignedTx(keys[s], testChainID, nonce, 1_000+uint64(r.IntN(10)), now+60_000, op)
			nonces[s]++
			raw := tx.Encode()
			all = append(all, raw)
			cm.Txs = append(cm.Txs, raw)
			if r.IntN(40) == 0 {
				bad := append([]byte(nil), raw...)
				bad[len(bad)-1] ^= 0x40
				cm.Txs = append(cm.Txs, bad)
			}
		}
		out = append(out, cm)
	}
	return out
}

func tokenOptions(t testing.TB, c execConfig, g *contracts.Genesis) (*Tokens, Options) {
	t.Helper()
	tk := NewTokens(contracts.NewModule(contracts.Params{}))
	gen, id, err := tk.Genesis(g)
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(c, DefaultMaxTxLifetime)
	o.Genesis, o.GenesisID = gen, id
	return tk, o
}

// TestTokensParallelEqualsSerial is TestParallelEqualsSerial with the real
// token module.
func TestTokensParallelEqualsSerial(t *testing.T) {
	seeds := 3
	if testing.Short() {
		seeds = 1
	}
	g := tokenGenesis(t, 6)
	for seed := range uint64(seeds) {
		work := genTokenWorkload(seed, 6, 250, 6)
		var ref []*Result
		for _, c := range []execConfig{{1, 1, -1}, {64, 4, 0}, {5, 2, 0}, {1024, 8, 16}} {
			tk, o := tokenOptions(t, c, g)
			st := openState(t, t.TempDir())
			e, err := New(st, tk, o)
			if err != nil {
				t.Fatal(err)
			}
			res := execAll(t, e, work)
			_ = st.Close()
			if ref == nil {
				ref = res
				codes := map[contracts.Code]int{}
				var sum Counts
				for _, r := range res {
					for _, rc := range r.Receipts {
						codes[rc.(*contracts.Receipt).Code]++
					}
					sum.OK += r.Counts.OK
					sum.BadSignature += r.Counts.BadSignature
					sum.Duplicate += r.Counts.Duplicate
				}
				t.Logf("seed %d: %+v codes %v", seed, sum, codes)
				if sum.OK < 200 || sum.BadSignature == 0 || sum.Duplicate == 0 || len(codes) < 4 {
					t.Fatalf("seed %d: workload too tame: %+v codes %v", seed, sum, codes)
				}
				continue
			}
			sameResults(t, fmt.Sprintf("tokens seed %d, %v vs serial", seed, c), ref, res)
		}
	}
}

// transferCommits returns commits of n native transfers each, unsigned
// (for benchmarks that skip verification), among accounts funded
// accounts with their nonces in order.
func transferCommits(commits, n, accounts int, first uint64, nonces []uint64, signed bool) []Commit {
	keys := make([]*crypto.AccountPrivateKey, accounts)
	pub := make([]crypto.AccountPublicKey, accounts)
	for i := range keys {
		keys[i] = tokenKey(i)
		pub[i] = keys[i].Public()
	}
	r := rand.New(rand.NewPCG(first, 7))
	var out []Commit
	s := int(first) * n
	for c := range commits {
		cm := Commit{Seq: first + uint64(c), Time: 1_000 + first + uint64(c)}
		for range n {
			from := s % accounts
			s++
			tx := contracts.NewTx(testChainID, nonces[from], 1_000, 100_000, contracts.NewTransfer(pub[r.IntN(accounts)], 1))
			tx.Sender = pub[from]
			if signed {
				tx.Sign(keys[from])
			}
			nonces[from]++
			cm.Txs = append(cm.Txs, tx.Encode())
		}
		out = append(out, cm)
	}
	return out
}

// BenchmarkExecuteTransfers measures the executor on native transfers
// among 1,000 or 10,000 funded accounts, 2,000 per commit, signatures not checked:
// apply-tx/s counts the decode, schedule and apply phases, tx/s the whole
// Execute including the state commit (unsynced); the µs/tx metrics split
// it into decode (and key listing), schedule and apply (with the roots),
// and the state commit.
func BenchmarkExecuteTransfers(b *testing.B) {
	for _, accounts := range []int{1_000, 10_000} {
		g := tokenGenesis(b, accounts)
		for _, w := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("accounts=%d/workers=%d", accounts, w), func(b *testing.B) { benchTransfers(b, g, accounts, w) })
		}
	}
}

func benchTransfers(b *testing.B, g *contracts.Genesis, accounts, w int) {
	const per = 2_000
	{
		{
			tk, o := tokenOptions(b, execConfig{64, w, 0}, g)
			o.skipVerify = true
			// The node's settings: the default node cache, unsynced.
			st, err := state.Open(b.TempDir(), state.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			e, err := New(st, tk, o)
			if err != nil {
				b.Fatal(err)
			}
			nonces := make([]uint64, accounts)
			execAll(b, e, []Commit{{Seq: 1, Time: 1}}) // the genesis
			work := transferCommits(b.N, per, accounts, 2, nonces, false)
			var apply, total, dec, app, com time.Duration
			b.ResetTimer()
			for _, c := range work {
				res, err := e.Execute(context.Background(), c)
				if err != nil {
					b.Fatal(err)
				}
				if res.Counts.OK != per {
					b.Fatalf("%d of %d ok", res.Counts.OK, per)
				}
				apply += res.Timings.Decode + res.Timings.Apply
				total += res.Timings.Decode + res.Timings.Apply + res.Timings.Commit
				dec, app, com = dec+res.Timings.Decode, app+res.Timings.Apply, com+res.Timings.Commit
			}
			n := float64(b.N * per)
			b.ReportMetric(n/apply.Seconds(), "apply-tx/s")
			b.ReportMetric(n/total.Seconds(), "tx/s")
			b.ReportMetric(float64(dec.Microseconds())/n, "decode-µs/tx")
			b.ReportMetric(float64(app.Microseconds())/n, "apply-µs/tx")
			b.ReportMetric(float64(com.Microseconds())/n, "commit-µs/tx")
			b.ReportMetric(0, "ns/op")
		}
	}
}

// BenchmarkVerifyTransfers measures batch signature verification of
// 2,048 signed transfers on one goroutine and on GOMAXPROCS.
func BenchmarkVerifyTransfers(b *testing.B) {
	nonces := make([]uint64, 512)
	work := transferCommits(1, 2048, 512, 1, nonces, true)
	tk := NewTokens(contracts.NewModule(contracts.Params{}))
	items := make([]crypto.AccountSig, len(work[0].Txs))
	for i, raw := range work[0].Txs {
		_, info, err := tk.Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		items[i] = info.Sig
	}
	for _, w := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			for b.Loop() {
				if _, ok := crypto.VerifyAccountBatch(items, w); !ok {
					b.Fatal("invalid")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items))/1000, "µs/sig")
			b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "sig/s")
		})
	}
}
