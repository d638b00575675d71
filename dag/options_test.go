package dag

import (
	"slices"
	"testing"
)

// Validate names the field of every bad value (a configuration file maps
// the name to its key) and, filling no default, refuses zeros that
// cannot work.
func TestOptionsValidateNamesFields(t *testing.T) {
	var def Options
	def.EnsureDefaults()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	o := def
	o.GCDepth, o.BatchSize, o.SyncLimit, o.MaxClockDrift = 2, 0, MaxResponseCerts+1, 0
	o.MinHeaderDelay = o.MaxHeaderDelay + 1
	var got []string
	for _, e := range OptionErrors(o.Validate()) {
		got = append(got, e.Field)
	}
	want := []string{"GCDepth", "MaxClockDrift", "MinHeaderDelay", "BatchSize", "SyncLimit"}
	if !slices.Equal(got, want) {
		t.Errorf("fields at fault %v, want %v", got, want)
	}
	var zero Options
	if n := len(OptionErrors(zero.Validate())); n < 10 {
		t.Errorf("zero options: %d errors, want one per field that cannot be zero", n)
	}
}
