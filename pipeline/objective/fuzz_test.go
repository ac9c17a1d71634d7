package objective_test

import (
	"bytes"
	"testing"

	"github.com/p4fabric/fabric/pipeline/objective"
)

// FuzzParseList checks that ParseList never panics, that what it accepts
// validates, keys and marshals without panicking, and that marshalling is
// a fixed point: parsing the YAML of a list and marshalling it again gives
// the same YAML. Seeds are in testdata/fuzz/FuzzParseList.
func FuzzParseList(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := objective.ParseList(data)
		if err != nil {
			return
		}
		_ = l.Validate()
		for _, o := range l {
			_, _, _ = o.Kind(), o.Key(), o.Validate()
		}
		y, err := l.Marshal()
		if err != nil {
			t.Fatalf("marshal a parsed list: %v", err)
		}
		again, err := objective.ParseList(y)
		if err != nil {
			t.Fatalf("parse own YAML: %v\n%s", err, y)
		}
		y2, err := again.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(y, y2) {
			t.Fatalf("marshal is not a fixed point:\n%s\n---\n%s", y, y2)
		}
	})
}
