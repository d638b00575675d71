package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/spf13/cobra"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/zk"
)

// zkFlags are the flags shared by every zk subcommand.
type zkFlags struct {
	json    bool
	verbose bool
}

// logger returns the slog logger of a zk subcommand and routes gnark's own
// logger (which otherwise prints to standard output) into it, or silences
// it.
func (f *zkFlags) logger(cmd *cobra.Command) *slog.Logger {
	if !f.verbose {
		zk.SilenceGnarkLogs()
		return slog.New(slog.DiscardHandler)
	}
	l := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	zk.RouteGnarkLogs(l)
	return l
}

// print writes v as indented JSON with --json, or runs text otherwise.
func (f *zkFlags) print(cmd *cobra.Command, v any, text func(w io.Writer)) error {
	if f.json {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(cmd.OutOrStdout())
	return nil
}

func newZKCmd() *cobra.Command {
	f := &zkFlags{}
	cmd := &cobra.Command{
		Use:   "zk",
		Short: "Anonymous membership proofs: keys, groups, proving and batched verification",
		Long: `Anonymous membership credentials (Semaphore-style Groth16 proofs over BN254).

A member proves "one member of this group signals this, once per scope" without
revealing which member. Files:
  identity file  JSON {"version":1,"secret":"0x<64 hex>"}: keep it private
  group file     JSON {"version":1,"depth":20,"members":["0x<64 hex>",...]}
  key files      membership.pk and membership.vk (binary, see package zk)
  proof file     binary envelope of 425 bytes (see zk.Envelope)`,
	}
	cmd.PersistentFlags().BoolVar(&f.json, "json", false, "print machine-readable JSON")
	cmd.PersistentFlags().BoolVarP(&f.verbose, "verbose", "v", false, "log progress (and gnark's logs) to standard error")
	cmd.AddCommand(newZKSetupCmd(f), newZKIdentityCmd(f), newZKGroupCmd(f), newZKProveCmd(f), newZKVerifyCmd(f))
	return cmd
}

func newZKSetupCmd(f *zkFlags) *cobra.Command {
	var out, seed string
	var depth int
	cmd := &cobra.Command{
		Use:   "setup --out DIR",
		Short: "Make deterministic proving and verifying keys (tests and devnets only)",
		Long: `Make the Groth16 proving and verifying keys of the membership circuit with a
deterministic setup: the toxic waste is derived from --seed, so anyone who knows
the seed can forge proofs. Use it for tests and devnets only; a production
network needs a multi-party ceremony (see the zk package documentation).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			lg := f.logger(cmd)
			fmt.Fprintln(cmd.ErrOrStderr(), "warning: deterministic setup: insecure for production, the seed reveals the toxic waste")
			start := time.Now()
			res, err := zk.DeterministicSetup(cmd.Context(), depth, []byte(seed), lg)
			if err != nil {
				return err
			}
			pkPath, vkPath, err := zk.WriteKeyFiles(out, res)
			if err != nil {
				return err
			}
			digest := res.VerifyingKey.Digest()
			return f.print(cmd, map[string]any{
				"depth":           depth,
				"constraints":     res.NbConstraints,
				"proving_key":     pkPath,
				"verifying_key":   vkPath,
				"vk_digest":       digest.String(),
				"insecure":        true,
				"elapsed_seconds": time.Since(start).Seconds(),
			}, func(w io.Writer) {
				fmt.Fprintf(w, "depth %d, %d constraints\nproving key   %s\nverifying key %s\nvk digest     %s\n", depth, res.NbConstraints, pkPath, vkPath, digest)
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write membership.pk and membership.vk into")
	cmd.Flags().IntVar(&depth, "depth", zk.DefaultDepth, "Merkle tree depth of the circuit")
	cmd.Flags().StringVar(&seed, "seed", "dagd devnet", "public seed of the deterministic setup")
	return cmd
}

func newZKIdentityCmd(f *zkFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "identity", Short: "Create and inspect identity files"}
	var out string
	newCmd := &cobra.Command{
		Use:   "new --out FILE",
		Short: "Create a new identity secret",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			if _, err := os.Stat(out); err == nil {
				return fmt.Errorf("%s exists; refusing to overwrite an identity", out)
			}
			id, err := zk.NewIdentity(rand.Reader)
			if err != nil {
				return err
			}
			if err := zk.WriteFileAtomic(out, zk.EncodeIdentityFile(id), 0o600); err != nil {
				return err
			}
			c := id.Commitment()
			return f.print(cmd, map[string]any{"identity": out, "commitment": zk.FormatElement(&c)}, func(w io.Writer) {
				fmt.Fprintf(w, "identity   %s\ncommitment %s\n", out, zk.FormatElement(&c))
			})
		},
	}
	newCmd.Flags().StringVar(&out, "out", "", "identity file to create (mode 0600)")
	var in string
	showCmd := &cobra.Command{
		Use:   "commitment --identity FILE",
		Short: "Print the public commitment of an identity",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := readIdentity(in)
			if err != nil {
				return err
			}
			c := id.Commitment()
			return f.print(cmd, map[string]any{"commitment": zk.FormatElement(&c)}, func(w io.Writer) {
				fmt.Fprintln(w, zk.FormatElement(&c))
			})
		},
	}
	showCmd.Flags().StringVar(&in, "identity", "", "identity file")
	cmd.AddCommand(newCmd, showCmd)
	return cmd
}

func readIdentity(path string) (zk.Identity, error) {
	if path == "" {
		return zk.Identity{}, errors.New("--identity is required")
	}
	b, err := zk.ReadFileLimited(path, 4<<10)
	if err != nil {
		return zk.Identity{}, err
	}
	id, err := zk.DecodeIdentityFile(b)
	if err != nil {
		return zk.Identity{}, fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

func readGroup(path string) (*zk.Group, error) {
	if path == "" {
		return nil, errors.New("--group is required")
	}
	b, err := zk.ReadFileLimited(path, zk.MaxGroupFileSize)
	if err != nil {
		return nil, err
	}
	g, err := zk.DecodeGroupFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// memberFlags select a commitment by value, by identity file or by index.
type memberFlags struct {
	commitment string
	identity   string
	index      int
}

func (m *memberFlags) register(cmd *cobra.Command, withIndex bool) {
	cmd.Flags().StringVar(&m.commitment, "commitment", "", "identity commitment (0x + 64 hex digits)")
	cmd.Flags().StringVar(&m.identity, "identity", "", "identity file whose commitment to use")
	if withIndex {
		cmd.Flags().IntVar(&m.index, "index", -1, "leaf index of the member")
	}
}

func (m *memberFlags) commitmentValue() (fr.Element, bool, error) {
	switch {
	case m.commitment != "" && m.identity != "":
		return fr.Element{}, false, errors.New("give --commitment or --identity, not both")
	case m.commitment != "":
		c, err := zk.ParseElement(m.commitment)
		return c, true, err
	case m.identity != "":
		id, err := readIdentity(m.identity)
		if err != nil {
			return fr.Element{}, false, err
		}
		return id.Commitment(), true, nil
	}
	return fr.Element{}, false, nil
}

func newZKGroupCmd(f *zkFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Build groups and compute roots and Merkle paths"}
	var groupPath string
	cmd.PersistentFlags().StringVar(&groupPath, "group", "", "group file")

	var depth int
	var addSel memberFlags
	addCmd := &cobra.Command{
		Use:   "add --group FILE (--commitment HEX | --identity FILE)",
		Short: "Add a member to a group file (created with --depth if missing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if groupPath == "" {
				return errors.New("--group is required")
			}
			c, ok, err := addSel.commitmentValue()
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("give --commitment or --identity")
			}
			var g *zk.Group
			if _, statErr := os.Stat(groupPath); errors.Is(statErr, os.ErrNotExist) {
				if g, err = zk.NewGroup(depth); err != nil {
					return err
				}
			} else if g, err = readGroup(groupPath); err != nil {
				return err
			}
			idx, err := g.Add(c)
			if err != nil {
				return err
			}
			if err := zk.WriteFileAtomic(groupPath, zk.EncodeGroupFile(g), 0o644); err != nil {
				return err
			}
			root := g.Root()
			return f.print(cmd, map[string]any{"index": idx, "size": g.Size(), "depth": g.Depth(), "root": zk.FormatElement(&root)}, func(w io.Writer) {
				fmt.Fprintf(w, "member %d added; %d members, root %s\n", idx, g.Size(), zk.FormatElement(&root))
			})
		},
	}
	addCmd.Flags().IntVar(&depth, "depth", zk.DefaultDepth, "tree depth of a new group")
	addSel.register(addCmd, false)

	rootCmd := &cobra.Command{
		Use:   "root --group FILE",
		Short: "Print the Merkle root of a group",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := readGroup(groupPath)
			if err != nil {
				return err
			}
			root := g.Root()
			return f.print(cmd, map[string]any{"root": zk.FormatElement(&root), "size": g.Size(), "depth": g.Depth()}, func(w io.Writer) {
				fmt.Fprintln(w, zk.FormatElement(&root))
			})
		},
	}

	var pathSel memberFlags
	pathCmd := &cobra.Command{
		Use:   "path --group FILE (--index N | --commitment HEX | --identity FILE)",
		Short: "Print the Merkle path of a member",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := readGroup(groupPath)
			if err != nil {
				return err
			}
			idx := pathSel.index
			c, ok, err := pathSel.commitmentValue()
			if err != nil {
				return err
			}
			if ok {
				if idx >= 0 {
					return errors.New("give --index or a commitment, not both")
				}
				i, found := g.IndexOf(c)
				if !found {
					return fmt.Errorf("commitment %s is not a member", zk.FormatElement(&c))
				}
				idx = i
			}
			if idx < 0 {
				return errors.New("give --index, --commitment or --identity")
			}
			p, err := g.Path(idx)
			if err != nil {
				return err
			}
			sibs := make([]string, len(p.Siblings))
			for i := range p.Siblings {
				sibs[i] = zk.FormatElement(&p.Siblings[i])
			}
			root := g.Root()
			return f.print(cmd, map[string]any{"index": p.Index, "root": zk.FormatElement(&root), "siblings": sibs}, func(w io.Writer) {
				fmt.Fprintf(w, "index %d\nroot  %s\n", p.Index, zk.FormatElement(&root))
				for l, s := range sibs {
					fmt.Fprintf(w, "level %2d sibling %s\n", l, s)
				}
			})
		},
	}
	pathSel.register(pathCmd, true)
	cmd.AddCommand(addCmd, rootCmd, pathCmd)
	return cmd
}

func newZKProveCmd(f *zkFlags) *cobra.Command {
	var pkPath, groupPath, idPath, scope, signal, out string
	cmd := &cobra.Command{
		Use:   "prove --pk FILE --group FILE --identity FILE --scope S --signal S --out FILE",
		Short: "Prove membership and signal once in a scope",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pkPath == "" || out == "" {
				return errors.New("--pk and --out are required")
			}
			lg := f.logger(cmd)
			id, err := readIdentity(idPath)
			if err != nil {
				return err
			}
			g, err := readGroup(groupPath)
			if err != nil {
				return err
			}
			idx, ok := g.IndexOf(id.Commitment())
			if !ok {
				return errors.New("the identity is not a member of the group")
			}
			path, err := g.Path(idx)
			if err != nil {
				return err
			}
			pk, err := zk.ReadProvingKeyFile(pkPath)
			if err != nil {
				return err
			}
			if pk.Depth() != g.Depth() {
				return fmt.Errorf("proving key is for depth %d, the group has depth %d", pk.Depth(), g.Depth())
			}
			prover, err := zk.NewProver(pk, lg)
			if err != nil {
				return err
			}
			start := time.Now()
			env, err := prover.Prove(cmd.Context(), id, path, zk.ScopeHash([]byte(scope)), zk.SignalHash([]byte(signal)))
			if err != nil {
				return err
			}
			elapsed := time.Since(start)
			b, err := env.MarshalBinary()
			if err != nil {
				return err
			}
			if err := zk.WriteFileAtomic(out, b, 0o644); err != nil {
				return err
			}
			return f.print(cmd, map[string]any{
				"proof":         out,
				"public":        publicJSON(&env.Public),
				"vk_digest":     env.VerifyingKey.String(),
				"constraints":   prover.NbConstraints(),
				"prove_seconds": elapsed.Seconds(),
			}, func(w io.Writer) {
				fmt.Fprintf(w, "proof written to %s in %v\nnullifier %s\n", out, elapsed.Round(time.Millisecond), zk.FormatElement(&env.Public.Nullifier))
			})
		},
	}
	cmd.Flags().StringVar(&pkPath, "pk", "", "proving key file (membership.pk)")
	cmd.Flags().StringVar(&groupPath, "group", "", "group file")
	cmd.Flags().StringVar(&idPath, "identity", "", "identity file of the member")
	cmd.Flags().StringVar(&scope, "scope", "", "scope, for example a proposal identifier; one signal per member and scope")
	cmd.Flags().StringVar(&signal, "signal", "", "the signal, for example a vote")
	cmd.Flags().StringVar(&out, "out", "", "proof file to write")
	return cmd
}

func publicJSON(p *zk.PublicInputs) map[string]string {
	return map[string]string{
		"root":        zk.FormatElement(&p.Root),
		"nullifier":   zk.FormatElement(&p.Nullifier),
		"signal_hash": zk.FormatElement(&p.SignalHash),
		"scope":       zk.FormatElement(&p.Scope),
	}
}

// proofVerdict is one line of `dagd zk verify --json`.
type proofVerdict struct {
	File    string            `json:"file"`
	Verdict string            `json:"verdict"`
	Valid   bool              `json:"valid"`
	Error   string            `json:"error,omitempty"`
	Public  map[string]string `json:"public,omitempty"`
}

func newZKVerifyCmd(f *zkFlags) *cobra.Command {
	var vkPath, pin, groupPath string
	var workers int
	cmd := &cobra.Command{
		Use:   "verify --vk FILE PROOF...",
		Short: "Verify proof files, in one batch when given several",
		Long: `Verify proof files against a verifying key. Several proofs are checked as one
batch (a random linear combination, bisected on failure to name the invalid
proofs); a nullifier may be used once in the batch. Exits with status 1 when
any proof is rejected.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if vkPath == "" {
				return errors.New("--vk is required")
			}
			lg := f.logger(cmd)
			vk, err := zk.ReadVerifyingKeyFile(vkPath)
			if err != nil {
				return err
			}
			if pin != "" {
				want, err := crypto.ParseDigest(pin)
				if err != nil {
					return fmt.Errorf("--vk-digest: %w", err)
				}
				if vk.Digest() != want {
					return fmt.Errorf("verifying key digest %s does not match --vk-digest %s", vk.Digest(), want)
				}
			}
			var pol zk.Policy
			if groupPath != "" {
				g, err := readGroup(groupPath)
				if err != nil {
					return err
				}
				root := g.Root()
				pol.KnownRoot = func(r fr.Element) bool { return r == root }
			}
			v, err := zk.NewVerifier(vk, zk.Options{Workers: workers, Logger: lg})
			if err != nil {
				return err
			}
			lines := make([]proofVerdict, len(args))
			var envs []zk.Envelope
			var at []int
			for i, path := range args {
				lines[i].File = path
				env, err := zk.ReadEnvelopeFile(path)
				if err != nil {
					lines[i].Verdict, lines[i].Error = "unreadable", err.Error()
					continue
				}
				lines[i].Public = publicJSON(&env.Public)
				envs = append(envs, *env)
				at = append(at, i)
			}
			start := time.Now()
			res, err := v.VerifyBatch(cmd.Context(), envs, pol)
			if err != nil {
				return err
			}
			elapsed := time.Since(start)
			rejected := 0
			for k, i := range at {
				lines[i].Verdict = res.Verdicts[k].String()
				lines[i].Valid = res.Verdicts[k] == zk.VerdictValid
			}
			for _, l := range lines {
				if !l.Valid {
					rejected++
				}
			}
			err = f.print(cmd, map[string]any{
				"vk_digest":       vk.Digest().String(),
				"proofs":          lines,
				"batched":         len(envs) > 1,
				"pairing_checks":  res.PairingChecks,
				"all_valid":       rejected == 0,
				"elapsed_seconds": elapsed.Seconds(),
			}, func(w io.Writer) {
				for _, l := range lines {
					msg := l.Verdict
					if l.Error != "" {
						msg += ": " + l.Error
					}
					fmt.Fprintf(w, "%-16s %s\n", msg, l.File)
				}
				fmt.Fprintf(w, "%d of %d proofs valid (%s pairing checks, %v)\n", len(lines)-rejected, len(lines), strconv.Itoa(res.PairingChecks), elapsed.Round(time.Microsecond))
			})
			if err != nil {
				return err
			}
			if rejected > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d proofs rejected", rejected, len(lines))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&vkPath, "vk", "", "verifying key file (membership.vk)")
	cmd.Flags().StringVar(&pin, "vk-digest", "", "expected digest of the verifying key (64 hex digits)")
	cmd.Flags().StringVar(&groupPath, "group", "", "accept only proofs for the current root of this group file")
	cmd.Flags().IntVar(&workers, "workers", 0, "goroutines for a batch (default: GOMAXPROCS)")
	return cmd
}
