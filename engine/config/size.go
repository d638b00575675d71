package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes. In TOML and on the command line it is an
// integer (bytes) or a string with a binary unit: "512KiB", "32MiB",
// "1GiB" (B, KiB, MiB, GiB and TiB; the unit is case-insensitive and "K",
// "KB"... are read as KiB...).
type ByteSize int64

var sizeUnits = []struct {
	name  string
	shift uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}}

// String formats s with the largest binary unit that divides it exactly.
func (s ByteSize) String() string {
	if s != 0 {
		for _, u := range sizeUnits {
			if s%(1<<u.shift) == 0 {
				return strconv.FormatInt(int64(s)>>u.shift, 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// ParseByteSize parses an integer number of bytes or a number with a
// binary unit ("64KiB", "32 MiB", "1g").
func ParseByteSize(str string) (ByteSize, error) {
	s := strings.TrimSpace(str)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want bytes or a number with a unit (B, KiB, MiB, GiB, TiB)", str)
	}
	var shift uint
	switch unit {
	case "", "b":
	case "k", "kb", "kib":
		shift = 10
	case "m", "mb", "mib":
		shift = 20
	case "g", "gb", "gib":
		shift = 30
	case "t", "tb", "tib":
		shift = 40
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, KiB, MiB, GiB or TiB)", str, s[i:])
	}
	if n > math.MaxInt64>>shift || n < math.MinInt64>>shift {
		return 0, fmt.Errorf("size %q: too large", str)
	}
	return ByteSize(n << shift), nil
}

// Set implements pflag.Value-style parsing from a flag.
func (s *ByteSize) Set(str string) error {
	n, err := ParseByteSize(str)
	if err != nil {
		return err
	}
	*s = n
	return nil
}
