package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/client/contentpay"
	"github.com/dagd/dagd/erasure"
)

// contentFlags are the flags of put, get and stat.
type contentFlags struct {
	node    string
	timeout time.Duration
}

func (f *contentFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.node, "node", "", "the node's HTTP API, host:port (required)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "give up after this long (0: no limit)")
	_ = cmd.MarkFlagRequired("node")
}

func (f *contentFlags) client() (*client.Client, error) {
	return client.New(f.node, client.Options{})
}

// parseCIDArg parses a CID given on the command line, saying clearly what
// is wrong with a bad one.
func parseCIDArg(s string) (cid.Cid, error) {
	id, err := erasure.ParseCID(strings.TrimSpace(s))
	if err != nil {
		return cid.Undef, &exitError{code: 2, err: fmt.Errorf("malformed CID %q: %w", s, err)}
	}
	return id, nil
}

func newPutCmd() *cobra.Command {
	var (
		f         contentFlags
		k, n      int
		asJSON    bool
		kf        keyringFlags
		from      string
		retention time.Duration
		expiry    string
	)
	cmd := &cobra.Command{
		Use:   "put --node HOST:PORT [--from KEY] FILE|-",
		Short: "Store a file (or standard input) in the network's erasure-coded storage",
		Long: `put streams FILE (or standard input for -) to a node's API. The node cuts it
into chunks, codes each into n shards of which any k rebuild it (defaults: the
committee's f+1 of n = committee size), sends every validator its shards, and
registers the availability certificate a quorum of them signed. The CID is the
last line of standard output; --json prints the node's whole answer instead.
A progress line goes to standard error when it is a terminal.

With --from KEY (a keyring key, as dagd tx uses), the account of KEY pays:
put codes FILE locally to compute its CID, signs a register-content
transaction paying for size x n/k stored bytes for --retention, and sends it
with the upload; the node checks it before reading the content, and submits
it with the certificate once stored. A node that does not pay for its
clients' content refuses a put without --from (HTTP 401). --from needs a
FILE (the content is read twice).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			var r io.Reader
			size := int64(erasure.UnknownSize)
			if args[0] == "-" {
				r = cmd.InOrStdin()
				if st, err := os.Stdin.Stat(); err == nil && st.Mode().IsRegular() && r == io.Reader(os.Stdin) {
					size = st.Size()
				}
			} else {
				file, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer file.Close()
				st, err := file.Stat()
				if err != nil {
					return err
				}
				if !st.Mode().IsRegular() {
					return fmt.Errorf("%s is not a regular file", args[0])
				}
				r, size = file, st.Size()
			}
			ctx, cancel := f.context(cmd)
			defer cancel()
			opts := client.PutOptions{K: k, N: n}
			if from != "" {
				seeker, ok := r.(io.ReadSeeker)
				if !ok || args[0] == "-" {
					return usageError("--from needs a FILE, not standard input: the CID is computed before the upload")
				}
				tx, err := signPut(ctx, cmd, c, &kf, f.node, from, seeker, size, k, n, retention, expiry)
				if err != nil {
					return err
				}
				opts.Payment = tx.Encode()
				fmt.Fprintf(cmd.ErrOrStderr(), "paying %d from %s (tx %s)\n", tx.Fee, tx.Sender, tx.Digest())
			}
			pr := newProgress(cmd.ErrOrStderr(), "put", size)
			res, err := c.Put(ctx, pr.reader(r), size, opts)
			pr.done(err == nil)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			note := ""
			if res.AlreadyRegistered {
				note = " (already stored)"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "stored %d bytes in %d chunks, k=%d n=%d (overhead %.2fx), signed by validators %v%s\n",
				res.Size, res.Chunks, res.K, res.N, res.Overhead, res.Signers, note)
			if r := res.Registration; r != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "ledger registration: %s\n", describeRegistration(r))
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.CID)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&k, "k", 0, "shards that rebuild a chunk (0: the node's default)")
	cmd.Flags().IntVar(&n, "n", 0, "shards of each chunk (0: the node's default)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the node's answer as JSON")
	kf.register(cmd, true)
	cmd.Flags().StringVar(&from, "from", "", "the keyring key whose account pays for the content (default: none, the node decides)")
	cmd.Flags().DurationVar(&retention, "retention", 30*24*time.Hour, "how long the content is paid for (with --from)")
	cmd.Flags().StringVar(&expiry, "expiry", "2m", "last consensus time the payment may execute: a duration from now or unix milliseconds (with --from)")
	return cmd
}

// signPut computes the registration of the content of r (size bytes) as
// the node codes it, signs it with the keyring key from for the fee the
// node asks, and rewinds r for the upload.
func signPut(ctx context.Context, cmd *cobra.Command, c *client.Client, kf *keyringFlags, node, from string, r io.ReadSeeker,
	size int64, k, n int, retention time.Duration, expiry string) (*contracts.Tx, error) {
	params, err := c.ContentParams(ctx)
	if err != nil {
		return nil, err
	}
	op, err := contentpay.Registration(ctx, r, size, params, k, n, uint64(retention.Milliseconds()))
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	kr := kf.keyring()
	ke, err := kr.show(from)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	sender, err := parsePublicKey(ke.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("--from %s: %w", from, err)
	}
	exp, err := parseTime("--expiry", expiry, time.Now())
	if err != nil {
		return nil, err
	}
	lc, err := newLedgerClient(node)
	if err != nil {
		return nil, err
	}
	acct, _, err := lc.provenAccount(ctx, sender, 0)
	if err != nil {
		return nil, fmt.Errorf("nonce of %s: %w", from, err)
	}
	pw, err := kf.password(cmd, false)
	if err != nil {
		return nil, err
	}
	key, err := kr.load(from, pw)
	clear(pw)
	if err != nil {
		return nil, err
	}
	tx := contracts.NewTx(params.ChainID, acct.Nonce, 0, exp, op)
	tx.Sender = sender
	tx.Fee = contentpay.Fee(params, tx)
	tx.Sign(key)
	return tx, nil
}

func newGetCmd() *cobra.Command {
	var (
		f   contentFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "get --node HOST:PORT CID [-o FILE]",
		Short: "Fetch content by CID, checking it against the CID",
		Long: `get fetches the manifest of CID from a node, checks it against the CID, then
streams the content, checking every chunk against the manifest before writing
it: a node cannot make get write other bytes. The content goes to standard
output, or to FILE with -o (written to FILE.partial, renamed when complete).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCIDArg(args[0])
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := f.context(cmd)
			defer cancel()
			var w io.Writer = cmd.OutOrStdout()
			var file *os.File
			if out != "" && out != "-" {
				file, err = os.OpenFile(out+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
				if err != nil {
					return err
				}
				defer func() {
					if file != nil {
						_ = file.Close()
						_ = os.Remove(out + ".partial")
					}
				}()
				w = file
			}
			size := int64(-1)
			if st, err := c.Stat(ctx, id); err == nil {
				size = int64(st.Size)
			}
			pr := newProgress(cmd.ErrOrStderr(), "get", size)
			_, err = c.Get(ctx, id, pr.writer(w))
			pr.done(err == nil)
			if err != nil {
				return err
			}
			if file != nil {
				if err := file.Sync(); err != nil {
					return err
				}
				if err := file.Close(); err != nil {
					return err
				}
				file = nil
				if err := os.Rename(out+".partial", out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", filepath.Clean(out))
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the content to this file instead of standard output")
	return cmd
}

func newStatCmd() *cobra.Command {
	var (
		f      contentFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "stat --node HOST:PORT CID",
		Short: "Describe stored content: size, chunks, coding, holders, certificate",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCIDArg(args[0])
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := f.context(cmd)
			defer cancel()
			st, err := c.Stat(ctx, id)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			fmt.Fprintf(w, "cid            %s\n", st.CID)
			fmt.Fprintf(w, "size           %d bytes\n", st.Size)
			fmt.Fprintf(w, "chunks         %d of %d bytes\n", st.Chunks, st.ChunkSize)
			fmt.Fprintf(w, "coding         k=%d n=%d (overhead n/k = %.2fx)\n", st.K, st.N, st.Overhead)
			fmt.Fprintf(w, "manifest       %s\n", st.ManifestDigest)
			if st.Registered {
				fmt.Fprintf(w, "certificate    signed by validators %v, stake %d (quorum %d)\n", st.Signers, st.SignerStake, st.QuorumStake)
			} else {
				fmt.Fprintf(w, "certificate    none in this node's local registry\n")
			}
			if st.Ledger != nil {
				fmt.Fprintf(w, "registered     %s\n", describeRegistration(st.Ledger))
				if st.Ledger.Registrant != "" {
					fmt.Fprintf(w, "registrant     %s\n", st.Ledger.Registrant)
				}
			}
			fmt.Fprintf(w, "holders\n")
			for _, h := range st.Holders {
				fmt.Fprintf(w, "  validator %-3d shards %v signed=%v connected=%v\n", h.Validator, h.Shards, h.Signed, h.Connected)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// describeRegistration says in one line whether the ledger records a
// content: "yes, commit 12, tx ..." or "no (why)".
func describeRegistration(r *client.ContentRegistration) string {
	if r.Pending && !r.Registered {
		return r.Reason // "pending: ..."
	}
	return r.String()
}

// context bounds a command by --timeout and by the process's signals.
func (f *contentFlags) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if f.timeout > 0 {
		return context.WithTimeout(ctx, f.timeout)
	}
	return context.WithCancel(ctx)
}

// progress reports bytes moved on standard error, only when it is a
// terminal.
type progress struct {
	w     io.Writer
	verb  string
	total int64
	n     atomic.Int64
	start time.Time
	stop  chan struct{}
	ended chan struct{}
}

func newProgress(w io.Writer, verb string, total int64) *progress {
	p := &progress{w: w, verb: verb, total: total, start: time.Now()}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return p
	}
	p.stop, p.ended = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.ended)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) draw() {
	n := p.n.Load()
	rate := float64(n) / max(time.Since(p.start).Seconds(), 1e-3) / 1e6
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s %s / %s (%3.0f%%) %.1f MB/s   ", p.verb, mib(n), mib(p.total), 100*float64(n)/float64(p.total), rate)
	} else {
		fmt.Fprintf(p.w, "\r%s %s %.1f MB/s   ", p.verb, mib(n), rate)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func (p *progress) done(ok bool) {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.ended
	if ok {
		p.draw()
	}
	fmt.Fprintln(p.w)
}

func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r: r, p: p} }
func (p *progress) writer(w io.Writer) io.Writer { return &progressWriter{w: w, p: p} }

type progressReader struct {
	r io.Reader
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.n.Add(int64(n))
	return n, err
}

type progressWriter struct {
	w io.Writer
	p *progress
}

func (w *progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.p.n.Add(int64(n))
	return n, err
}
