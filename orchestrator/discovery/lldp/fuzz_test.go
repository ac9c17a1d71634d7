package lldp_test

import (
	"reflect"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/discovery/lldp"
)

// FuzzUnmarshal checks that Unmarshal never panics and that every frame
// it accepts survives Marshal and Unmarshal unchanged. The seed corpus
// lives in testdata/fuzz/FuzzUnmarshal.
func FuzzUnmarshal(f *testing.F) {
	for _, fr := range []lldp.Frame{valid(), {ChassisID: []byte("x"), PortID: []byte("1")}} {
		b, err := fr.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := lldp.Unmarshal(data)
		if err != nil {
			if fr != nil {
				t.Fatalf("Unmarshal returned both a frame and error %v", err)
			}
			return
		}
		b, err := fr.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted frame: %v\nframe: %+v", err, fr)
		}
		back, err := lldp.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal()) = %v", err)
		}
		if !reflect.DeepEqual(back, fr) {
			t.Fatalf("round trip changed the frame\nbefore: %+v\nafter:  %+v", fr, back)
		}
	})
}
