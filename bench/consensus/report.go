package consensus

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Markdown renders the result as a Markdown section: the setup, the
// machine and its load, one table row per rate, and the sustained rate.
func (r *Result) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d validators, %d-byte transactions, %s network, fsync %s, execution %s, %s per rate; started %s.\n\n",
		r.Validators, r.TxSize, r.Network, onOff(r.Fsync), onOff(r.Execution), fmtSeconds(r.DurationS), r.Started.Format("2006-01-02 15:04 MST"))
	m := r.Machine
	model := m.CPUModel
	if model == "" {
		model = "unknown CPU"
	}
	fmt.Fprintf(&b, "Machine: %s, nproc %d, GOMAXPROCS %d, %s, %s/%s; load average %s at the start, %s at the end.\n\n",
		mdEscape(model), m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch, m.LoadStart, m.LoadEnd)
	if r.Command != "" {
		fmt.Fprintf(&b, "    %s\n\n", r.Command)
	}
	b.WriteString("| offered tx/s | committed tx/s | committed | p50 ms | p95 ms | p99 ms | consistent | sustained | CPU µs/tx | load (1 min) before → after |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: | ---: | --- |\n")
	for _, p := range r.Points {
		note := ""
		if p.Interrupted {
			note = " (interrupted)"
		}
		if p.Warning != "" {
			note += " (follower lagged)"
		}
		cpu := "-"
		if p.CPUMicrosPerTx > 0 {
			cpu = fmt.Sprintf("%.1f", p.CPUMicrosPerTx)
		}
		fmt.Fprintf(&b, "| %s%s | %s | %.1f %% | %s | %s | %s | %s | %s | %s | %.2f → %.2f |\n",
			fmtInt(p.OfferedTPS), note, fmtInt(p.CommittedTPS), 100*p.CommittedShare, fmtInt(p.P50MS), fmtInt(p.P95MS), fmtInt(p.P99MS),
			yesNo(p.Consistent), yesNo(p.Sustained), cpu, p.LoadStart[0], p.LoadEnd[0])
	}
	b.WriteString("\n")
	steady := len(r.Points) > 0
	for _, p := range r.Points {
		steady = steady && p.Steady
	}
	if steady {
		fmt.Fprintf(&b, "Offered and committed tx/s are steady-state rates, after the first %s of each rate's load; latency is from the moment a transaction fell due to its commit, over every transaction of the rate; CPU µs/tx is the whole process's CPU time (validators and load generator) per committed transaction.\n\n",
			WarmUp(time.Duration(r.DurationS*float64(time.Second))))
	}
	if r.SustainedIndex >= 0 && r.SustainedIndex < len(r.Points) {
		p := r.Points[r.SustainedIndex]
		fmt.Fprintf(&b, "Highest sustained rate (committed ≥ %.0f %% of offered, p99 < %s ms, consistent): **%s tx/s** offered, %s tx/s committed, p50 %s ms, p99 %s ms.\n",
			100*r.SustainedFraction, fmtInt(r.MaxP99MS), fmtInt(p.Rate), fmtInt(p.CommittedTPS), fmtInt(p.P50MS), fmtInt(p.P99MS))
	} else {
		fmt.Fprintf(&b, "No rate was sustained (committed ≥ %.0f %% of offered, p99 < %s ms, consistent).\n",
			100*r.SustainedFraction, fmtInt(r.MaxP99MS))
	}
	if r.StoppedEarly != "" {
		skipped := make([]string, len(r.Skipped))
		for i, s := range r.Skipped {
			skipped[i] = fmtInt(s)
		}
		fmt.Fprintf(&b, "\nStopped early: %s", mdEscape(r.StoppedEarly))
		if len(skipped) > 0 {
			fmt.Fprintf(&b, " (not run: %s tx/s)", strings.Join(skipped, ", "))
		}
		b.WriteString(".\n")
	}
	return b.Bytes()
}

func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func fmtSeconds(s float64) string { return fmt.Sprintf("%g s", s) }

// fmtInt rounds v and groups its digits by thousands: 45000.4 -> 45,000.
func fmtInt(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// mdEscape keeps free text from breaking a Markdown table or line.
func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ").Replace(s)
}

// Chart geometry of SVG, in pixels.
const (
	svgWidth   = 720
	svgHeight  = 440
	plotLeft   = 80
	plotRight  = 690
	plotTop    = 50
	plotBottom = 380
)

// niceStep returns a step of 1, 2 or 5 times a power of ten that cuts
// [0, max] into about n intervals.
func niceStep(max float64, n int) float64 {
	if !(max > 0) || math.IsInf(max, 0) {
		return 1
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// axis returns the ticks 0, step, ... up to the first at or above max.
func axis(max float64, n int) (ticks []float64, top float64) {
	step := niceStep(max, n)
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= max || len(ticks) > 50 {
			return ticks, v
		}
	}
}

// SVG renders the latency-throughput chart: p50 and p99 latency (y, ms)
// against committed throughput (x, tx/s), one marker per rate, joined in
// the order of the offered rates, with ticks, axis labels and a legend.
// Every text is XML-escaped.
func (r *Result) SVG() []byte {
	pts := slices.Clone(r.Points)
	slices.SortStableFunc(pts, func(a, b Point) int { return cmpFloat(a.Rate, b.Rate) })
	var maxX, maxY float64
	for _, p := range pts {
		maxX = math.Max(maxX, finite(p.CommittedTPS))
		maxY = math.Max(maxY, math.Max(finite(p.P99MS), finite(p.P50MS)))
	}
	xTicks, xTop := axis(math.Max(maxX, 1), 8)
	yTicks, yTop := axis(math.Max(maxY, 1), 6)
	x := func(v float64) float64 { return plotLeft + finite(v)/xTop*(plotRight-plotLeft) }
	y := func(v float64) float64 { return plotBottom - finite(v)/yTop*(plotBottom-plotTop) }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	title := fmt.Sprintf("dagd consensus: %d validators, %d B transactions, %s", r.Validators, r.TxSize, r.Network)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", xmlText(title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="white"/>`+"\n", svgWidth, svgHeight)
	fmt.Fprintf(&b, `<text x="%d" y="24" text-anchor="middle" font-size="15">%s</text>`+"\n", svgWidth/2, xmlText(title))
	sub := fmt.Sprintf("%s, nproc %d, %s; load %s → %s", r.Machine.CPUModel, r.Machine.NumCPU, r.Machine.GoVersion,
		r.Machine.LoadStart, r.Machine.LoadEnd)
	fmt.Fprintf(&b, `<text x="%d" y="40" text-anchor="middle" font-size="10" fill="#555">%s</text>`+"\n", svgWidth/2, xmlText(sub))

	// Grid, ticks and tick labels.
	b.WriteString(`<g class="axes" stroke="#000" stroke-width="1">` + "\n")
	for _, t := range xTicks {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(t), plotTop, x(t), plotBottom)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", x(t), plotBottom, x(t), plotBottom+5)
	}
	for _, t := range yTicks {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, y(t), plotRight, y(t))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`+"\n", plotLeft-5, y(t), plotLeft, y(t))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", plotLeft, plotBottom, plotRight, plotBottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", plotLeft, plotTop, plotLeft, plotBottom)
	b.WriteString("</g>\n")
	b.WriteString(`<g class="tick-labels" fill="#000">` + "\n")
	for _, t := range xTicks {
		fmt.Fprintf(&b, `<text class="x-tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(t), plotBottom+19, xmlText(fmtInt(t)))
	}
	for _, t := range yTicks {
		fmt.Fprintf(&b, `<text class="y-tick" x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotLeft-8, y(t)+4, xmlText(fmtInt(t)))
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(&b, `<text class="x-label" x="%d" y="%d" text-anchor="middle">%s</text>`+"\n",
		(plotLeft+plotRight)/2, plotBottom+42, xmlText("committed throughput (tx/s)"))
	fmt.Fprintf(&b, `<text class="y-label" x="20" y="%d" text-anchor="middle" transform="rotate(-90 20 %d)">%s</text>`+"\n",
		(plotTop+plotBottom)/2, (plotTop+plotBottom)/2, xmlText("latency (ms)"))

	// The series.
	series := []struct {
		name, color string
		val         func(Point) float64
		marker      string
	}{
		{"p50", "#1f77b4", func(p Point) float64 { return p.P50MS }, "circle"},
		{"p99", "#d62728", func(p Point) float64 { return p.P99MS }, "rect"},
	}
	for _, s := range series {
		fmt.Fprintf(&b, `<g class="series" id="series-%s" data-series="%s" fill="%s" stroke="%s">`+"\n", s.name, s.name, s.color, s.color)
		if len(pts) > 1 {
			coords := make([]string, len(pts))
			for i, p := range pts {
				coords[i] = fmt.Sprintf("%.1f,%.1f", x(p.CommittedTPS), y(s.val(p)))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke-width="2" points="%s"/>`+"\n", strings.Join(coords, " "))
		}
		for _, p := range pts {
			cx, cy := x(p.CommittedTPS), y(s.val(p))
			tip := fmt.Sprintf("%s: offered %s tx/s, committed %s tx/s, %s ms", s.name, fmtInt(p.Rate), fmtInt(p.CommittedTPS), fmtInt(s.val(p)))
			attrs := fmt.Sprintf(`class="point" data-offered="%g" data-x="%g" data-y="%g"`, p.Rate, finite(p.CommittedTPS), finite(s.val(p)))
			if s.marker == "circle" {
				fmt.Fprintf(&b, `<circle %s cx="%.1f" cy="%.1f" r="4"><title>%s</title></circle>`+"\n", attrs, cx, cy, xmlText(tip))
			} else {
				fmt.Fprintf(&b, `<rect %s x="%.1f" y="%.1f" width="8" height="8"><title>%s</title></rect>`+"\n", attrs, cx-4, cy-4, xmlText(tip))
			}
		}
		b.WriteString("</g>\n")
	}

	// Legend.
	b.WriteString(`<g class="legend">` + "\n")
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="150" height="44" fill="white" stroke="#999"/>`+"\n", plotLeft+12, plotTop+8)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#1f77b4" stroke-width="2"/><circle cx="%d" cy="%d" r="4" fill="#1f77b4"/>`+"\n",
		plotLeft+20, plotTop+22, plotLeft+44, plotTop+22, plotLeft+32, plotTop+22)
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", plotLeft+52, plotTop+26, xmlText("p50 latency"))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d62728" stroke-width="2"/><rect x="%d" y="%d" width="8" height="8" fill="#d62728"/>`+"\n",
		plotLeft+20, plotTop+40, plotLeft+44, plotTop+40, plotLeft+28, plotTop+36)
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", plotLeft+52, plotTop+44, xmlText("p99 latency"))
	b.WriteString("</g>\n")
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// xmlText escapes s for XML character data and attribute values.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// JSON returns the result as indented JSON.
func (r *Result) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("consensus bench: encode result: %w", err)
	}
	return append(b, '\n'), nil
}

// File names WriteFiles writes in its directory.
const (
	JSONFile     = "consensus.json"
	MarkdownFile = "consensus.md"
	SVGFile      = "consensus.svg"
)

// WriteFiles writes r to dir (made if missing) as consensus.json,
// consensus.md (with a link to the chart) and consensus.svg.
func WriteFiles(dir string, r *Result) error {
	if dir == "" {
		return fmt.Errorf("consensus bench: no output directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("consensus bench: output directory: %w", err)
	}
	js, err := r.JSON()
	if err != nil {
		return err
	}
	md := append([]byte("# dagd consensus: latency against throughput\n\n"), r.Markdown()...)
	md = append(md, fmt.Sprintf("\n![latency against committed throughput](%s)\n", SVGFile)...)
	for _, f := range []struct {
		name string
		data []byte
	}{{JSONFile, js}, {MarkdownFile, md}, {SVGFile, r.SVG()}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("consensus bench: write %s: %w", f.name, err)
		}
	}
	return nil
}
