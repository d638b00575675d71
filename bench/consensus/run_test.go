package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunShort runs two small rates end to end on the in-memory network
// and writes the files. It asserts what the run must produce, never how
// fast: figures from a test machine say nothing.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two devnets")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var seen []float64
	var prof bytes.Buffer
	res, err := Run(ctx, Options{
		Rates: []float64{200, 400}, Duration: 2 * time.Second, Drain: 3 * time.Second,
		InMemoryNetwork: true, NoSync: true, StopFraction: 1e-9, CPUProfile: &prof,
		OnPoint: func(p Point) { seen = append(seen, p.Rate) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 2 || len(seen) != 2 || seen[0] != 200 || seen[1] != 400 {
		t.Fatalf("points %+v, OnPoint saw %v", res.Points, seen)
	}
	for _, p := range res.Points {
		if !p.Consistent || p.CommonCommits == 0 {
			t.Errorf("rate %v: consistent %v over %d commits", p.Rate, p.Consistent, p.CommonCommits)
		}
		if p.OfferedTPS <= 0 || p.CommittedTPS <= 0 || p.Report == nil || p.Report.CommittedTx == 0 {
			t.Errorf("rate %v: offered %v committed %v", p.Rate, p.OfferedTPS, p.CommittedTPS)
		}
		if p.CPUSeconds <= 0 || p.CPUMicrosPerTx <= 0 {
			t.Errorf("rate %v: CPU %v s, %v µs/tx", p.Rate, p.CPUSeconds, p.CPUMicrosPerTx)
		}
		if p.P50MS <= 0 || p.P99MS < p.P50MS {
			t.Errorf("rate %v: p50 %v p99 %v", p.Rate, p.P50MS, p.P99MS)
		}
		if p.Sustained != IsSustained(p, res.SustainedFraction, time.Duration(res.MaxP99MS*float64(time.Millisecond))) {
			t.Errorf("rate %v: Sustained %v disagrees with the criteria", p.Rate, p.Sustained)
		}
	}
	if res.Network != "memory" || res.Fsync || res.Validators != 4 || res.TxSize != 512 || res.Machine.NumCPU == 0 || res.Machine.GoVersion == "" {
		t.Errorf("result header %+v", res)
	}
	if prof.Len() == 0 {
		t.Error("no CPU profile written")
	}

	dir := t.TempDir()
	res.Command = "go test"
	if err := WriteFiles(dir, res); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("consensus.json: %v", err)
	}
	if len(back.Points) != 2 || back.Points[1].Rate != 400 {
		t.Errorf("consensus.json points %+v", back.Points)
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	// A row per rate, led by the offered rate as measured (199 on a loaded
	// machine when 200 was asked).
	if !strings.Contains(string(md), "| "+fmtInt(res.Points[0].OfferedTPS)+" |") || !strings.Contains(string(md), "("+SVGFile+")") {
		t.Errorf("consensus.md:\n%s", md)
	}
	svg, err := os.ReadFile(filepath.Join(dir, SVGFile))
	if err != nil {
		t.Fatal(err)
	}
	series, _ := parseSVG(t, svg)
	if len(series["p50"]) != 2 || len(series["p99"]) != 2 {
		t.Errorf("consensus.svg series %v", series)
	}
}

// TestRunStopsEarly: a rate that commits less than StopFraction of its
// load ends the run (a stop fraction far above 1 makes every rate fail).
func TestRunStopsEarly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet")
	}
	res, err := Run(context.Background(), Options{Rates: []float64{100, 200, 300}, Duration: time.Second, Drain: time.Second,
		InMemoryNetwork: true, NoSync: true, StopFraction: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 1 || !slicesEqual(res.Skipped, []float64{200, 300}) || !strings.Contains(res.StoppedEarly, "higher rates skipped") {
		t.Errorf("points %d, skipped %v, stopped %q", len(res.Points), res.Skipped, res.StoppedEarly)
	}
}

// TestRunRefusesBadOptions: bad options are an error before anything
// starts.
func TestRunRefusesBadOptions(t *testing.T) {
	if _, err := Run(context.Background(), Options{Rates: []float64{100, 50}}); err == nil {
		t.Error("falling rates accepted")
	}
	if _, err := Run(context.Background(), Options{Rates: []float64{100}, TxSize: 1}); err == nil {
		t.Error("a 1-byte transaction accepted")
	}
}

// TestRunInterrupted: a canceled context ends the run with the rates
// done so far and ctx's error.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, Options{Rates: []float64{100, 200}, Duration: time.Second, InMemoryNetwork: true, NoSync: true})
	if err == nil || res == nil {
		t.Fatalf("Run = %v, %v; want a partial result and an error", res, err)
	}
	if len(res.Points) != 0 || len(res.Skipped) != 2 || res.StoppedEarly == "" {
		t.Errorf("result %+v", res)
	}
}
