package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse: a configuration file, whatever its bytes, is parsed without
// a panic; one that parses is written and parsed back to the same
// settings.
func FuzzParse(f *testing.F) {
	old, err := os.ReadFile(filepath.Join("testdata", "config-before-schema.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(old)
	f.Add([]byte("[dag]\nmax_batch_delay = \"1500us\"\nbatch_size = 4096\n[storage]\nmemtable_size = \"1GiB\""))
	f.Add([]byte("[content]\nconcurrency = 0\ndata_shards = 2\ntotal_shards = 3\n[api]\nmax_conns = -1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := c.Write(&b); err != nil {
			return // a string that is not UTF-8 cannot be written back
		}
		got, err := Parse(b.Bytes(), "")
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip changed the settings:\n got %+v\nwant %+v", got, c)
		}
	})
}
