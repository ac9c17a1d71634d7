package schema_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/schema"
	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func load(t testing.TB, name string) *schema.Schema {
	t.Helper()
	info, err := p4infos.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.New(info)
	if err != nil {
		t.Fatalf("schema.New(%s): %v", name, err)
	}
	return s
}

func TestEveryShippedP4InfoIndexes(t *testing.T) {
	for _, name := range p4infos.Names() {
		t.Run(name, func(t *testing.T) {
			s := load(t, name)
			if len(s.Tables()) == 0 && len(s.Actions()) == 0 {
				t.Fatalf("%s: empty schema", name)
			}
		})
	}
}

func TestTableLookup(t *testing.T) {
	s := load(t, "onos-basic")
	tests := []struct {
		name      string
		want      string
		ambiguous bool
		unknown   bool
	}{
		{name: "ingress.table0_control.table0", want: "ingress.table0_control.table0"},
		{name: "table0", want: "ingress.table0_control.table0"},                // alias
		{name: "table0_control.table0", want: "ingress.table0_control.table0"}, // unique suffix
		{name: "wcmp_table", want: "ingress.wcmp_control.wcmp_table"},
		{name: "nope", unknown: true},
		{name: "able0", unknown: true}, // suffixes are whole dotted components
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := s.Table(tc.name)
			var le *schema.LookupError
			switch {
			case tc.unknown:
				if !errors.As(err, &le) || le.Ambiguous || len(le.Candidates) == 0 {
					t.Fatalf("Table(%q) error = %v, want unknown with candidates", tc.name, err)
				}
			case err != nil:
				t.Fatalf("Table(%q): %v", tc.name, err)
			case tb.Name != tc.want:
				t.Fatalf("Table(%q) = %s, want %s", tc.name, tb.Name, tc.want)
			case s.TableByID(tb.ID) != tb:
				t.Fatalf("TableByID(%d) differs", tb.ID)
			}
		})
	}
}

func TestAmbiguousSuffixListsCandidates(t *testing.T) {
	s := load(t, "onos-basic")
	// Both table0_control and wcmp_control define set_egress_port.
	_, err := s.Action("set_egress_port")
	var le *schema.LookupError
	if !errors.As(err, &le) || !le.Ambiguous || len(le.Candidates) < 2 {
		t.Fatalf("Action(set_egress_port) error = %v, want ambiguous with candidates", err)
	}
}

func TestTableDetails(t *testing.T) {
	s := load(t, "onos-basic")
	tb, err := s.Table("table0")
	if err != nil {
		t.Fatal(err)
	}
	if !tb.NeedsPriority {
		t.Error("table0 has ternary fields: NeedsPriority must be set")
	}
	f, err := tb.Field("hdr.ethernet.ether_type")
	if err != nil {
		t.Fatal(err)
	}
	if f.Bitwidth != 16 || f.Kind != schema.Ternary {
		t.Errorf("ether_type = bit<%d> %v", f.Bitwidth, f.Kind)
	}
	if tb.FieldByID(f.ID) != f {
		t.Error("FieldByID")
	}
	if tb.DirectCounter == nil {
		t.Error("table0 has a direct counter")
	}
	ref, err := tb.Action("send_to_cpu")
	if err != nil {
		t.Fatal(err)
	}
	if tb.ActionRef(ref.Action.ID) != ref {
		t.Error("ActionRef by ID")
	}
	if _, err := tb.Field("bogus"); err == nil || !strings.Contains(err.Error(), "hdr.ethernet.ether_type") {
		t.Errorf("unknown field error should list the fields: %v", err)
	}
	wcmp, err := s.Table("wcmp_table")
	if err != nil {
		t.Fatal(err)
	}
	if wcmp.ActionProfile == nil || !wcmp.ActionProfile.WithSelector {
		t.Error("wcmp_table is implemented by a selector")
	}
	if wcmp.NeedsPriority {
		t.Error("wcmp_table is exact-only")
	}
	po, err := s.PacketMetadata("packet_out")
	if err != nil {
		t.Fatal(err)
	}
	if ep, err := po.Field("egress_port"); err != nil || ep.Bitwidth != 9 {
		t.Errorf("packet_out.egress_port = %+v, %v", ep, err)
	}
}

func TestSAITranslatedTypes(t *testing.T) {
	s := load(t, "sai-middleblock")
	tb, err := s.Table("ipv4_table")
	if err != nil {
		t.Fatal(err)
	}
	vrf, err := tb.Field("vrf_id")
	if err != nil {
		t.Fatal(err)
	}
	if vrf.Translated == nil || !vrf.Translated.SDNString || vrf.Bitwidth != 0 {
		t.Errorf("vrf_id should be an SDN string: %+v", vrf)
	}
	pin, err := s.PacketMetadata("packet_in")
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := pin.Field("ingress_port"); f == nil || f.Translated == nil || f.Translated.TypeName != "port_id_t" {
		t.Errorf("packet_in.ingress_port should be translated port_id_t: %+v", f)
	}
}

func TestFormats(t *testing.T) {
	info := p4infos.MustInfo("fabric-v1model")
	dir := t.TempDir()
	bin, _ := proto.Marshal(info)
	js, _ := protojson.Marshal(info)
	txt, _ := p4infos.Text("fabric-v1model")
	files := map[string][]byte{"p4info.pb": bin, "p4info.json": js, "p4info.txt": txt}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := schema.Load(p)
		if err != nil {
			t.Fatalf("Load(%s): %v", name, err)
		}
		if !proto.Equal(s.P4Info(), info) {
			t.Errorf("Load(%s) differs from the original", name)
		}
	}
	if _, err := schema.Load(filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("Load of a missing file: want error")
	}
	if _, err := schema.Parse([]byte("tables { bogus: 1 }"), schema.FormatText); err == nil {
		t.Error("Parse of bad text: want error")
	}
}

func TestConsistencyErrors(t *testing.T) {
	base := func() *p4configv1.P4Info { return p4infos.MustInfo("onos-basic") }
	tests := []struct {
		name   string
		mutate func(*p4configv1.P4Info)
		want   string
	}{
		{"duplicate ID", func(i *p4configv1.P4Info) { i.Actions[1].Preamble.Id = i.Actions[0].Preamble.Id }, "reuses ID"},
		{"wrong prefix", func(i *p4configv1.P4Info) { i.Tables[0].Preamble.Id = 0x01000099 }, "prefix"},
		{"dangling action", func(i *p4configv1.P4Info) { i.Tables[0].ActionRefs[0].Id = 0x01ffffff }, "unknown action ID"},
		{"dangling profile", func(i *p4configv1.P4Info) {
			for _, t := range i.Tables {
				if t.ImplementationId != 0 {
					t.ImplementationId = 0x11ffffff
				}
			}
		}, "unknown implementation"},
		{"duplicate field", func(i *p4configv1.P4Info) { i.Tables[0].MatchFields[1].Name = i.Tables[0].MatchFields[0].Name }, "duplicate match field name"},
		{"no bitwidth", func(i *p4configv1.P4Info) { i.Tables[0].MatchFields[0].Bitwidth = 0 }, "no bit width"},
		{"no match type", func(i *p4configv1.P4Info) {
			i.Tables[0].MatchFields[0].Match = nil
		}, "no match type"},
		{"duplicate name", func(i *p4configv1.P4Info) { i.Actions[1].Preamble.Name = i.Actions[0].Preamble.Name }, "duplicate action name"},
		{"direct counter on unknown table", func(i *p4configv1.P4Info) { i.DirectCounters[0].DirectTableId = 0x02ffffff }, "unknown table ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := base()
			tc.mutate(info)
			_, err := schema.New(info)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want containing %q", err, tc.want)
			}
		})
	}
	if _, err := schema.New(nil); err == nil {
		t.Error("New(nil): want error")
	}
}

func TestObjectName(t *testing.T) {
	s := load(t, "onos-basic")
	tb, _ := s.Table("table0")
	if got := s.ObjectName(tb.ID); got != tb.Name {
		t.Errorf("ObjectName = %q", got)
	}
	if s.ObjectName(12345) != "" {
		t.Error("unknown ID should have no name")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"onos-basic", "bmv2-digest"} {
		txt, _ := p4infos.Text(name)
		f.Add(txt, uint8(0))
		bin, _ := proto.Marshal(p4infos.MustInfo(name))
		f.Add(bin, uint8(1))
	}
	f.Add([]byte(`{"tables":[{"preamble":{"id":33554433,"name":"t"}}]}`), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		s, err := schema.Parse(data, schema.Format(format%3))
		if err != nil {
			return
		}
		// Every indexed object must be reachable by its name and ID.
		for _, tb := range s.Tables() {
			if got, err := s.Table(tb.Name); err != nil || got != tb {
				t.Fatalf("table %q not found by name: %v", tb.Name, err)
			}
			for _, fl := range tb.Fields {
				if tb.FieldByID(fl.ID) != fl {
					t.Fatalf("field %q not found by ID", fl.Name)
				}
			}
		}
		_ = fmt.Sprint(s.ObjectName(1))
	})
}

func ExampleSchema_Table() {
	info, _ := p4infos.Info("onos-basic")
	s, err := schema.New(info)
	if err != nil {
		fmt.Println(err)
		return
	}
	t, _ := s.Table("table0")
	f, _ := t.Field("hdr.ethernet.ether_type")
	fmt.Println(t.Name, f.Bitwidth, f.Kind, t.NeedsPriority)
	_, err = s.Table("tabel0")
	fmt.Println(err != nil)
	// Output:
	// ingress.table0_control.table0 16 TERNARY true
	// true
}

func TestPaddingFields(t *testing.T) {
	tests := []struct {
		program, field string
		padding        bool
	}{
		{"onos-basic", "_padding", true},
		{"onos-basic", "egress_port", false},
		{"fabric-v1model", "_pad", true},
		{"fabric-v1model", "do_forwarding", false},
		{"sai-middleblock", "unused_pad", true}, // @padding
		{"sai-middleblock", "submit_to_ingress", false},
	}
	for _, tc := range tests {
		pm, err := load(t, tc.program).PacketMetadata("packet_out")
		if err != nil {
			t.Fatal(err)
		}
		f, err := pm.Field(tc.field)
		if err != nil {
			t.Fatal(err)
		}
		if f.Padding != tc.padding {
			t.Errorf("%s packet_out.%s: Padding = %v, want %v", tc.program, tc.field, f.Padding, tc.padding)
		}
	}
}
