package consensus

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/loadtest"
)

func point(rate, committed, p50, p99 float64, consistent bool) Point {
	return Point{Rate: rate, OfferedTPS: rate, CommittedTPS: committed, CommittedShare: committed / rate,
		P50MS: p50, P95MS: (p50 + p99) / 2, P99MS: p99, Consistent: consistent}
}

func TestHighestSustained(t *testing.T) {
	for _, tc := range []struct {
		name   string
		points []Point
		want   int
	}{
		{"none", nil, -1},
		{"all pass", []Point{point(5000, 5000, 150, 300, true), point(10000, 9900, 170, 320, true)}, 1},
		{"throughput short", []Point{point(5000, 5000, 150, 300, true), point(10000, 9400, 170, 320, true)}, 0},
		{"exactly 95 percent", []Point{point(10000, 9500, 170, 320, true)}, 0},
		{"p99 too high", []Point{point(5000, 5000, 150, 300, true), point(10000, 10000, 900, 2000, true)}, 0},
		{"p99 just below", []Point{point(10000, 10000, 900, 1999.9, true)}, 0},
		{"inconsistent", []Point{point(5000, 5000, 150, 300, true), point(10000, 10000, 170, 320, false)}, 0},
		{"a pass above a failure counts", []Point{point(5000, 5000, 150, 300, true), point(10000, 8000, 900, 3000, true),
			point(20000, 19500, 400, 900, true)}, 2},
		{"nothing passes", []Point{point(5000, 1000, 150, 3000, true)}, -1},
		{"interrupted", []Point{{Rate: 5000, OfferedTPS: 5000, CommittedTPS: 5000, P99MS: 10, Consistent: true, Interrupted: true}}, -1},
		{"nothing offered", []Point{{Rate: 5000, Consistent: true}}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HighestSustained(tc.points, 0.95, 2*time.Second); got != tc.want {
				t.Errorf("HighestSustained = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseRates(t *testing.T) {
	got, err := ParseRates("5k, 10K,20000,45.5k,1m")
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5000, 10000, 20000, 45500, 1e6}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rate %d = %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", " ", "5k,", "abc", "-5", "0", "10k,5k", "10k,10k", "NaN", "Inf", "1e9", "5kk", ",", "5k;10k"} {
		if r, err := ParseRates(bad); err == nil {
			t.Errorf("ParseRates(%q) = %v, want an error", bad, r)
		}
	}
}

func TestRateRange(t *testing.T) {
	got, err := RateRange(5000, 5000, 20000)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{5000, 10000, 15000, 20000}; !slicesEqual(got, want) {
		t.Errorf("RateRange = %v, want %v", got, want)
	}
	got, err = RateRange(1000, 3000, 8000) // 8000 is not on a step
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1000, 4000, 7000}; !slicesEqual(got, want) {
		t.Errorf("RateRange = %v, want %v", got, want)
	}
	if got, err := RateRange(7000, 0, 7000); err != nil || !slicesEqual(got, []float64{7000}) {
		t.Errorf("RateRange(7000, 0, 7000) = %v, %v", got, err)
	}
	for _, bad := range [][3]float64{{0, 1, 10}, {10, 1, 5}, {10, -1, 20}, {10, 0, 20}, {1, 1, 1e7}, {math.NaN(), 1, 2}, {1, math.Inf(1), 2}, {1, 1, 2e8}} {
		if r, err := RateRange(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("RateRange(%v) = %v, want an error", bad, r)
		}
	}
}

func slicesEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOptionsValidate(t *testing.T) {
	for name, edit := range map[string]func(*Options){
		"no rates":         func(o *Options) { o.Rates = nil },
		"falling rates":    func(o *Options) { o.Rates = []float64{10, 5} },
		"zero rate":        func(o *Options) { o.Rates = []float64{0} },
		"NaN rate":         func(o *Options) { o.Rates = []float64{math.NaN()} },
		"short duration":   func(o *Options) { o.Duration = time.Millisecond },
		"negative drain":   func(o *Options) { o.Drain = -time.Second },
		"too many nodes":   func(o *Options) { o.Validators = 100000 },
		"negative nodes":   func(o *Options) { o.Validators = -1 },
		"tiny tx":          func(o *Options) { o.TxSize = 3 },
		"huge tx":          func(o *Options) { o.TxSize = 1 << 30 },
		"fraction above 1": func(o *Options) { o.SustainedFraction = 1.5 },
		"negative stop":    func(o *Options) { o.StopFraction = -1 },
		"negative p99":     func(o *Options) { o.MaxP99 = -time.Second },
		"negative pause":   func(o *Options) { o.Pause = -time.Second },
	} {
		o := Options{Rates: []float64{1000}}
		edit(&o)
		o.EnsureDefaults()
		if err := o.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, o)
		}
	}
	o := Options{Rates: []float64{1000, 2000}}
	if err := o.EnsureDefaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestLoadAvgAndCPUModel(t *testing.T) {
	l, err := parseLoadAvg([]byte("2.27 3.98 4.87 3/412 12345\n"))
	if err != nil || l != (LoadAvg{2.27, 3.98, 4.87}) {
		t.Errorf("parseLoadAvg = %v, %v", l, err)
	}
	if l.String() != "2.27, 3.98, 4.87" {
		t.Errorf("String = %q", l.String())
	}
	for _, bad := range []string{"", "1 2", "a b c"} {
		if _, err := parseLoadAvg([]byte(bad)); err == nil {
			t.Errorf("parseLoadAvg(%q) accepted", bad)
		}
	}
	info := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: other\n"
	if got := cpuModel([]byte(info)); got != "Intel(R) Xeon(R) Processor" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel([]byte("garbage")); got != "" {
		t.Errorf("cpuModel(garbage) = %q", got)
	}
}

// testResult is a result with awkward text in every free field.
func testResult() *Result {
	pts := []Point{
		point(5000, 5000, 150, 290, true),
		point(10000, 9950, 172, 321, true),
		point(45000, 43093, 505, 895, true),
		point(60000, 40000, 2500, 6100, true),
	}
	for i := range pts {
		pts[i].Sustained = IsSustained(pts[i], 0.95, 2*time.Second)
		pts[i].LoadStart, pts[i].LoadEnd = LoadAvg{1.5, 2, 3}, LoadAvg{2.25, 2, 3}
		pts[i].CPUMicrosPerTx = 20 + float64(i)
	}
	r := &Result{
		Started: time.Date(2025, 11, 29, 1, 0, 0, 0, time.UTC), Command: "dagd bench consensus --rates 5k,10k,45k,60k",
		Machine: Machine{CPUModel: `Xeon <"fast"> & | co`, NumCPU: 2, GOMAXPROCS: 2, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64",
			LoadStart: LoadAvg{1.5, 2, 3}, LoadEnd: LoadAvg{2.5, 2.1, 3}},
		Validators: 4, TxSize: 512, DurationS: 20, Network: "quic", Fsync: true,
		SustainedFraction: 0.95, MaxP99MS: 2000, StopFraction: 0.8, Points: pts,
		Skipped: []float64{70000}, StoppedEarly: "at 60000 tx/s only 67% of the offered load committed",
	}
	r.SustainedIndex = HighestSustained(pts, 0.95, 2*time.Second)
	r.SustainedRate = pts[r.SustainedIndex].Rate
	return r
}

func TestMarkdown(t *testing.T) {
	md := string(testResult().Markdown())
	for _, want := range []string{
		"4 validators, 512-byte transactions, quic network, fsync on, execution off, 20 s per rate",
		"nproc 2, GOMAXPROCS 2, go1.26.8, linux/amd64",
		"load average 1.50, 2.00, 3.00 at the start, 2.50, 2.10, 3.00 at the end",
		`Xeon <"fast"> & \| co`,
		"    dagd bench consensus --rates 5k,10k,45k,60k",
		"| offered tx/s | committed tx/s | committed | p50 ms | p95 ms | p99 ms | consistent | sustained | CPU µs/tx |",
		"| 5,000 | 5,000 | 100.0 % | 150 | 220 | 290 | yes | yes | 20.0 | 1.50 → 2.25 |",
		"| 10,000 | 9,950 | 99.5 % | 172 | 247 | 321 | yes | yes |",
		"| 45,000 | 43,093 | 95.8 % | 505 | 700 | 895 | yes | yes |",
		"| 60,000 | 40,000 | 66.7 % | 2,500 | 4,300 | 6,100 | yes | no |",
		"Highest sustained rate (committed ≥ 95 % of offered, p99 < 2,000 ms, consistent): **45,000 tx/s** offered, 43,093 tx/s committed, p50 505 ms, p99 895 ms.",
		"(not run: 70,000 tx/s)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table row has the header's number of cells.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") {
			if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 11 {
				t.Errorf("row with %d separators, want 11: %s", n, line)
			}
		}
	}
	r := testResult()
	r.Points[2].P99MS = 2500
	r.Points[2].Sustained = false
	r.SustainedIndex = HighestSustained(r.Points, 0.95, 2*time.Second)
	if md := string(r.Markdown()); !strings.Contains(md, "**10,000 tx/s**") {
		t.Errorf("the sustained rate did not drop to 10,000:\n%s", md)
	}
	r.Points, r.SustainedIndex = nil, -1
	if md := string(r.Markdown()); !strings.Contains(md, "No rate was sustained") {
		t.Errorf("no-rate case:\n%s", md)
	}
}

type svgPoint struct{ offered, x, y, cx, cy float64 }

// parseSVG decodes the chart with encoding/xml (failing on anything not
// well-formed) and returns the points of each series and every text.
func parseSVG(t *testing.T, b []byte) (map[string][]svgPoint, []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	series := make(map[string][]svgPoint)
	var texts []string
	var cur string
	depth, seriesDepth := 0, -1
	attr := func(e xml.StartElement, name string) string {
		for _, a := range e.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	num := func(e xml.StartElement, name string) float64 {
		v, err := strconv.ParseFloat(attr(e, name), 64)
		if err != nil {
			t.Fatalf("<%s> attribute %s: %v", e.Name.Local, name, err)
		}
		return v
	}
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, b)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if e.Name.Local == "g" && attr(e, "data-series") != "" {
				cur, seriesDepth = attr(e, "data-series"), depth
			}
			if cur != "" && attr(e, "class") == "point" {
				p := svgPoint{offered: num(e, "data-offered"), x: num(e, "data-x"), y: num(e, "data-y")}
				switch e.Name.Local {
				case "circle":
					p.cx, p.cy = num(e, "cx"), num(e, "cy")
				case "rect":
					p.cx, p.cy = num(e, "x")+4, num(e, "y")+4
				default:
					t.Errorf("point drawn as <%s>", e.Name.Local)
				}
				series[cur] = append(series[cur], p)
			}
			inText = e.Name.Local == "text" || e.Name.Local == "title"
		case xml.EndElement:
			if depth == seriesDepth {
				cur, seriesDepth = "", -1
			}
			depth--
			inText = false
		case xml.CharData:
			if inText {
				texts = append(texts, string(e))
			}
		}
	}
	return series, texts
}

func TestSVG(t *testing.T) {
	r := testResult()
	b := r.SVG()
	if !bytes.HasPrefix(b, []byte("<?xml")) || !bytes.Contains(b, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Fatalf("not an SVG document:\n%.200s", b)
	}
	series, texts := parseSVG(t, b)
	if len(series) != 2 {
		t.Fatalf("series %v, want p50 and p99", len(series))
	}
	for name, val := range map[string]func(Point) float64{"p50": func(p Point) float64 { return p.P50MS }, "p99": func(p Point) float64 { return p.P99MS }} {
		pts := series[name]
		if len(pts) != len(r.Points) {
			t.Fatalf("series %s has %d points, want %d", name, len(pts), len(r.Points))
		}
		for i, p := range pts {
			want := r.Points[i]
			if p.offered != want.Rate || p.x != want.CommittedTPS || p.y != val(want) {
				t.Errorf("%s point %d = %+v, want offered %v x %v y %v", name, i, p, want.Rate, want.CommittedTPS, val(want))
			}
			if p.cx < plotLeft || p.cx > plotRight || p.cy < plotTop || p.cy > plotBottom {
				t.Errorf("%s point %d at (%v, %v), outside the plot", name, i, p.cx, p.cy)
			}
		}
		// Positions follow the values: more throughput further right,
		// more latency higher up (smaller y).
		for i := 1; i < len(pts); i++ {
			if (pts[i].x > pts[i-1].x) != (pts[i].cx > pts[i-1].cx) {
				t.Errorf("%s: x positions out of order at %d", name, i)
			}
			if (pts[i].y > pts[i-1].y) != (pts[i].cy < pts[i-1].cy) {
				t.Errorf("%s: y positions out of order at %d", name, i)
			}
		}
	}
	joined := strings.Join(texts, "\n")
	for _, want := range []string{"committed throughput (tx/s)", "latency (ms)", "p50 latency", "p99 latency", `Xeon <"fast"> & | co`, "40,000", "0"} {
		if !strings.Contains(joined, want) {
			t.Errorf("SVG texts lack %q", want)
		}
	}
	// The axes reach past the largest values.
	var maxXTick, maxYTick float64
	for _, line := range strings.Split(string(b), "\n") {
		for _, cls := range []string{`class="x-tick"`, `class="y-tick"`} {
			if !strings.Contains(line, cls) {
				continue
			}
			s := line[strings.Index(line, ">")+1 : strings.LastIndex(line, "<")]
			v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
			if err != nil {
				t.Fatalf("tick label %q: %v", s, err)
			}
			if cls == `class="x-tick"` {
				maxXTick = math.Max(maxXTick, v)
			} else {
				maxYTick = math.Max(maxYTick, v)
			}
		}
	}
	if maxXTick < 43093 || maxYTick < 6100 {
		t.Errorf("largest ticks x %v y %v do not cover the data", maxXTick, maxYTick)
	}

	// Degenerate inputs still give a well-formed chart.
	for _, pts := range [][]Point{nil, {point(100, 0, 0, 0, true)}, {{Rate: 1, CommittedTPS: math.NaN(), P99MS: math.Inf(1)}}} {
		r := &Result{Points: pts}
		series, _ := parseSVG(t, r.SVG())
		if len(series["p50"]) != len(pts) {
			t.Errorf("%d points drawn for %d", len(series["p50"]), len(pts))
		}
	}
}

func TestNiceAxis(t *testing.T) {
	for _, tc := range []struct {
		max      float64
		n        int
		wantStep float64
	}{{43093, 8, 10000}, {6100, 6, 2000}, {1, 6, 0.2}, {895, 6, 200}, {0, 6, 1}} {
		if got := niceStep(tc.max, tc.n); math.Abs(got-tc.wantStep) > 1e-9 {
			t.Errorf("niceStep(%v, %d) = %v, want %v", tc.max, tc.n, got, tc.wantStep)
		}
	}
	ticks, top := axis(43093, 8)
	if ticks[0] != 0 || top != 50000 || len(ticks) != 6 {
		t.Errorf("axis(43093) = %v, top %v", ticks, top)
	}
}

func TestFmtInt(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999.6: "1,000", 45000: "45,000", 1234567: "1,234,567", -1500: "-1,500", math.NaN(): "-"} {
		if got := fmtInt(v); got != want {
			t.Errorf("fmtInt(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSteadyRates(t *testing.T) {
	// 10 s at 1000 tx/s offered; commits lag 500 ms and run at 900 tx/s
	// once the pipeline is full; snapshots every second, a little late,
	// going on through the drain.
	var snaps []loadtest.Snapshot
	for i := 1; i <= 14; i++ {
		el := time.Duration(i)*time.Second + 3*time.Millisecond
		off := uint64(min(el, 10*time.Second).Seconds() * 1000)
		var com uint64
		if el > 500*time.Millisecond {
			com = uint64((el - 500*time.Millisecond).Seconds() * 900)
		}
		snaps = append(snaps, loadtest.Snapshot{Elapsed: el, Offered: off, Committed: com})
	}
	off, com, ok := SteadyRates(snaps, 10*time.Second)
	if !ok || math.Abs(off-1000) > 1 || math.Abs(com-900) > 1 {
		t.Errorf("SteadyRates = %v, %v, %v; want 1000, 900", off, com, ok)
	}
	if WarmUp(10*time.Second) != 2500*time.Millisecond || WarmUp(time.Minute) != 5*time.Second {
		t.Error("WarmUp")
	}
	for name, s := range map[string][]loadtest.Snapshot{
		"none":        nil,
		"one":         snaps[3:4],
		"all warm-up": snaps[:2],
		"short span":  {{Elapsed: 3 * time.Second}, {Elapsed: 3500 * time.Millisecond}},
		"under 5 s":   {{Elapsed: 3 * time.Second, Offered: 1, Committed: 1}, {Elapsed: 7 * time.Second, Offered: 9, Committed: 9}},
		"going back":  {{Elapsed: 3 * time.Second, Committed: 10}, {Elapsed: 5 * time.Second, Committed: 5}},
	} {
		if _, _, ok := SteadyRates(s, 10*time.Second); ok {
			t.Errorf("%s: SteadyRates ok", name)
		}
	}
	var p Point
	fillPoint(&p, &loadtest.Report{OfferedTPS: 1000, CommittedTPS: 855, Latency: loadtest.LatencyMS{P50: 500}}, snaps, 10*time.Second)
	if !p.Steady || math.Abs(p.CommittedShare-0.9) > 0.01 || p.WindowCommittedTPS != 855 || p.P50MS != 500 {
		t.Errorf("fillPoint = %+v", p)
	}
	fillPoint(&p, &loadtest.Report{OfferedTPS: 1000, CommittedTPS: 855}, nil, 10*time.Second)
	if p.Steady || p.CommittedTPS != 855 || p.CommittedShare != 0.855 {
		t.Errorf("fillPoint without snapshots = %+v", p)
	}
}
