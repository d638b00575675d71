package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dagd/dagd/dag"
)

// ValidateSettings checks every setting once, for the engine and for a
// configuration file, naming each bad one by its field's path.
func TestValidateSettingsNamesFieldPaths(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if err := o.ValidateSettings(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	o.Content.MaxConcurrentPuts = 0
	o.DAG.GCDepth = 1
	o.API.MaxConnsPerIP = o.API.MaxConns + 1
	o.MemTableSize = 0
	err := o.ValidateSettings()
	var got []string
	for _, e := range dag.OptionErrors(err) {
		got = append(got, e.Field)
	}
	if len(got) != 4 {
		t.Errorf("fields at fault %v, want 4 (%v)", got, err)
	}
	for _, f := range []string{"MemTableSize", "DAG.GCDepth", "API.MaxConnsPerIP", "Content.MaxConcurrentPuts"} {
		if !strings.Contains(err.Error(), f+": ") {
			t.Errorf("%v does not name %s", err, f)
		}
	}
}

// The engine's consensus defaults are the ones a zero Options gets: a
// field DefaultDAGOptions sets but EnsureDefaults forgot would silently
// fall back to dag's own default (GCDepth once ran at 50, not 20, so an
// orphaned certificate's batches waited 50 rounds to be proposed again).
func TestEnsureDefaultsAppliesEngineDAGDefaults(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if want := DefaultDAGOptions(); !reflect.DeepEqual(o.DAG, want) {
		t.Errorf("EnsureDefaults gives DAG options\n%+v\nwant DefaultDAGOptions\n%+v", o.DAG, want)
	}
}
