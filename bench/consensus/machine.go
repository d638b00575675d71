package consensus

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a run took place.
type Machine struct {
	// CPUModel is the first "model name" of /proc/cpuinfo ("" if unknown).
	CPUModel string `json:"cpu_model"`
	// NumCPU is the number of logical CPUs the process may use (nproc).
	NumCPU int `json:"num_cpu"`
	// GOMAXPROCS is the Go scheduler's thread limit during the run.
	GOMAXPROCS int `json:"gomaxprocs"`
	// GoVersion is runtime.Version().
	GoVersion string `json:"go_version"`
	// OS and Arch are runtime.GOOS and runtime.GOARCH.
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// LoadStart and LoadEnd are the 1, 5 and 15-minute load averages
	// when the run started and ended (-1: unknown).
	LoadStart LoadAvg `json:"load_start"`
	LoadEnd   LoadAvg `json:"load_end"`
}

// LoadAvg is the system load average over 1, 5 and 15 minutes, as
// uptime prints it.
type LoadAvg [3]float64

// String formats the load average as uptime does: "1.23, 2.34, 3.45".
func (l LoadAvg) String() string {
	return fmt.Sprintf("%.2f, %.2f, %.2f", l[0], l[1], l[2])
}

// ReadLoadAvg returns the load averages from /proc/loadavg, or -1s where
// the system does not say.
func ReadLoadAvg() LoadAvg {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return LoadAvg{-1, -1, -1}
	}
	l, err := parseLoadAvg(b)
	if err != nil {
		return LoadAvg{-1, -1, -1}
	}
	return l
}

// parseLoadAvg reads the first three fields of /proc/loadavg.
func parseLoadAvg(b []byte) (LoadAvg, error) {
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return LoadAvg{}, fmt.Errorf("consensus bench: /proc/loadavg has %d fields, want at least 3", len(f))
	}
	var l LoadAvg
	for i := range l {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return LoadAvg{}, fmt.Errorf("consensus bench: load average %q: %w", f[i], err)
		}
		l[i] = v
	}
	return l, nil
}

// cpuModel returns the first "model name" in a /proc/cpuinfo text.
func cpuModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ThisMachine describes the machine the process runs on; LoadStart is
// read now and LoadEnd left for the caller.
func ThisMachine() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, LoadStart: ReadLoadAvg(), LoadEnd: LoadAvg{-1, -1, -1}}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = cpuModel(b)
	}
	return m
}
