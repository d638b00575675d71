package committeefile_test

import (
	"reflect"
	"testing"

	"github.com/dagd/dagd/engine/committeefile"
)

// FuzzParse: a committee file, whatever its bytes, is parsed without a
// panic; one that parses is written and parsed back to the same
// committee.
func FuzzParse(f *testing.F) {
	com, err := committeefile.Assemble("fuzz-1", 2, members(f, "fuzz", 2))
	if err != nil {
		f.Fatal(err)
	}
	good, err := com.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"chain_id":"c","epoch":0,"validators":[]}`))
	f.Add([]byte(`{"validators":[{"bls_public_key":"0x00","stake":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := committeefile.Parse(data)
		if err != nil {
			return
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatalf("a parsed committee does not marshal: %v", err)
		}
		got, err := committeefile.Parse(b)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip changed the committee:\n got %+v\nwant %+v", got, c)
		}
	})
}
