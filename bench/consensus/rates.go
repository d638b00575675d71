package consensus

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxRates bounds the rates of one run.
const MaxRates = 1000

// MaxRate bounds one offered rate, in transactions per second.
const MaxRate = 1e8

// ParseRates reads a comma-separated list of rates in transactions per
// second; a rate may end in k (thousands) or m (millions): "5k,10k,20000".
// The rates must be positive, finite, at most MaxRate, and ascending.
func ParseRates(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("consensus bench: empty rate list")
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxRates {
		return nil, fmt.Errorf("consensus bench: %d rates, at most %d", len(parts), MaxRates)
	}
	out := make([]float64, 0, len(parts))
	for _, p := range parts {
		r, err := parseRate(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && r <= out[n-1] {
			return nil, fmt.Errorf("consensus bench: rate %q not above the one before it (rates rise)", p)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseRate(p string) (float64, error) {
	mult := 1.0
	num := p
	switch {
	case strings.HasSuffix(p, "k") || strings.HasSuffix(p, "K"):
		mult, num = 1e3, p[:len(p)-1]
	case strings.HasSuffix(p, "m") || strings.HasSuffix(p, "M"):
		mult, num = 1e6, p[:len(p)-1]
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("consensus bench: rate %q: %w", p, err)
	}
	return checkRate(v*mult, p)
}

func checkRate(r float64, what string) (float64, error) {
	if math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 || r > MaxRate {
		return 0, fmt.Errorf("consensus bench: rate %q: want a positive rate up to %g tx/s", what, MaxRate)
	}
	return r, nil
}

// RateRange returns start, start+step, ... up to and including max (when
// it falls on a step).
func RateRange(start, step, max float64) ([]float64, error) {
	if _, err := checkRate(start, fmt.Sprint(start)); err != nil {
		return nil, err
	}
	if _, err := checkRate(max, fmt.Sprint(max)); err != nil {
		return nil, err
	}
	if math.IsNaN(step) || math.IsInf(step, 0) || step < 0 {
		return nil, fmt.Errorf("consensus bench: step %v: want a positive step", step)
	}
	if max < start {
		return nil, fmt.Errorf("consensus bench: max %v below start %v", max, start)
	}
	if step == 0 {
		if max != start {
			return nil, fmt.Errorf("consensus bench: step 0 with max %v above start %v", max, start)
		}
		return []float64{start}, nil
	}
	n := math.Floor((max-start)/step+1e-9) + 1
	if n > MaxRates {
		return nil, fmt.Errorf("consensus bench: %v rates from %v to %v by %v, at most %d", n, start, max, step, MaxRates)
	}
	out := make([]float64, 0, int(n))
	for i := 0; i < int(n); i++ {
		out = append(out, start+float64(i)*step)
	}
	return out, nil
}
