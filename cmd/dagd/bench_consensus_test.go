package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagd/dagd/bench/consensus"
)

// TestBenchConsensusBadFlags: bad rates and contradictory flags are
// clear errors before any devnet starts.
func TestBenchConsensusBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rates", "10k,5k"}, "rates rise"},
		{[]string{"--rates", "fast"}, "rate \"fast\""},
		{[]string{"--rates", "0"}, "positive rate"},
		{[]string{"--rates", "5k", "--start", "1000", "--max", "2000"}, "not both"},
		{[]string{"--start", "1000"}, "--start and --max"},
		{[]string{"--start", "2000", "--max", "1000"}, "below start"},
		{[]string{"--rates", "5k", "--tx-size", "3"}, "transaction size"},
		{[]string{"--rates", "5k", "--validators", "-2"}, "validators"},
		{[]string{"--rates", "5k", "--duration", "1ms"}, "duration"},
		{[]string{"--rates", "5k", "--out", ""}, "--out"},
	} {
		_, err := runDagd(t, append([]string{"bench", "consensus"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("dagd bench consensus %v: error %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
}

// TestBenchConsensusCommand runs the command on one small rate and reads
// back the files it wrote.
func TestBenchConsensusCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet")
	}
	out := t.TempDir()
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	stdout, err := runDagd(t, "bench", "consensus", "--rates", "300", "--duration", "1s", "--drain", "2s", "--mem-network", "--no-sync",
		"--out", out, "--cpuprofile", prof)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "offered") || !strings.Contains(stdout, "wrote ") {
		t.Errorf("output:\n%s", stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, consensus.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var res consensus.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 1 || !strings.Contains(res.Command, "--rates 300") || !strings.Contains(res.Command, "--mem-network") {
		t.Errorf("points %d, command %q", len(res.Points), res.Command)
	}
	for _, f := range []string{consensus.MarkdownFile, consensus.SVGFile, prof} {
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(out, f)
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
