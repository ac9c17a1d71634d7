package pipeline_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/schema"
	"github.com/p4fabric/fabric/pipeline"
	"github.com/p4fabric/fabric/pipeline/basic"
)

func basicText(t *testing.T) []byte {
	t.Helper()
	b, err := p4infos.Text("onos-basic")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoad(t *testing.T) {
	text := basicText(t)
	info := p4infos.MustInfo("onos-basic")
	bin, err := proto.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	bmv2 := []byte(`{"__meta__": {"version": [2, 18]}}`)
	tests := []struct {
		name      string
		files     map[string][]byte
		opts      []pipeline.LoadOption
		wantErr   string
		wantCPU   uint32
		targets   string // comma-separated
		bmv2      bool
		wantProv  bool
		wantLicen bool
	}{
		{name: "text P4Info, bmv2 JSON, cpu port, provenance", files: map[string][]byte{
			"basic_p4info.txt": text, "basic.json": bmv2, "cpu_port.txt": []byte("255\n"), "PROVENANCE.md": []byte("# from ONOS"), "LICENSE.txt": []byte("Apache"),
			"basic.p4": []byte("control ingress() {}"),
		}, wantCPU: 255, targets: "bmv2,emulated", bmv2: true, wantProv: true, wantLicen: true},
		{name: "binary P4Info alone", files: map[string][]byte{"p4info.pb": bin}, targets: "emulated"},
		{name: "JSON P4Info and bmv2.json among JSON files", files: map[string][]byte{"p4info.json": js, "bmv2.json": bmv2, "other.json": []byte(`{}`)}, targets: "bmv2,emulated", bmv2: true},
		{name: "options override the folder", files: map[string][]byte{"x.p4info.pb.txt": text, "cpu_port.txt": []byte("255")},
			opts: []pipeline.LoadOption{pipeline.WithDeviceOptions(pipeline.DeviceOptions{CPUPort: 64}), pipeline.WithDeviceConfig("tofino", []byte{1})}, wantCPU: 64, targets: "emulated,tofino"},
		{name: "no P4Info", files: map[string][]byte{"bmv2.json": bmv2}, wantErr: "no P4Info"},
		{name: "two P4Infos", files: map[string][]byte{"a_p4info.txt": text, "b.p4info.pb": bin}, wantErr: "several P4Infos"},
		{name: "bad P4Info", files: map[string][]byte{"p4info.txt": []byte("tables { nonsense")}, wantErr: "decode P4Info"},
		{name: "bad cpu port", files: map[string][]byte{"p4info.txt": text, "cpu_port.txt": []byte("cpu")}, wantErr: `CPU port "cpu" is not a number`},
		{name: "bmv2 JSON not JSON", files: map[string][]byte{"p4info.txt": text, "bmv2.json": []byte("{")}, wantErr: "bmv2.json is not valid JSON"},
		{name: "several JSON files", files: map[string][]byte{"p4info.txt": text, "a.json": bmv2, "b.json": bmv2}, wantErr: "several JSON files and none named bmv2.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-program")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for n, b := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pc, err := pipeline.Load(dir, append(tt.opts, pipeline.WithPipeliner(basic.New))...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "my-program") {
					t.Fatalf("err = %v, want %q naming the pipeconf", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pc.ID != "my-program" {
				t.Errorf("ID = %q, want the folder name", pc.ID)
			}
			if len(pc.Schema.Tables()) != 3 {
				t.Errorf("%d tables, want 3", len(pc.Schema.Tables()))
			}
			if pc.Options.CPUPort != tt.wantCPU {
				t.Errorf("CPU port = %d, want %d", pc.Options.CPUPort, tt.wantCPU)
			}
			if got := strings.Join(pc.Targets(), ","); got != tt.targets {
				t.Errorf("targets = %s, want %s", got, tt.targets)
			}
			if c, err := pc.DeviceConfig(pipeline.TargetBMv2); tt.bmv2 && (err != nil || string(c) != string(bmv2)) {
				t.Errorf("bmv2 config = %q, %v", c, err)
			}
			if (pc.Provenance != "") != tt.wantProv || (pc.License != "") != tt.wantLicen {
				t.Errorf("provenance %q, license %q", pc.Provenance, pc.License)
			}
			if _, err := pc.Pipeliner(); err != nil {
				t.Errorf("Pipeliner: %v", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := pipeline.Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing folder: no error")
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Load(f); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file: err = %v", err)
	}
	fsys := fstest.MapFS{"p4info.txt": {Data: basicText(t)}}
	if _, err := pipeline.LoadFS(fsys, "."); err == nil || !strings.Contains(err.Error(), "no ID") {
		t.Errorf("LoadFS without ID: err = %v", err)
	}
	if _, err := pipeline.LoadFS(nil, "x"); err == nil {
		t.Error("nil FS: no error")
	}
	if _, err := pipeline.LoadFS(fsys, "nowhere"); err == nil {
		t.Error("missing folder in FS: no error")
	}
	pc, err := pipeline.LoadFS(fsys, ".", pipeline.WithID("p"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Pipeliner(); !errors.Is(err, pipeline.ErrNoPipeliner) {
		t.Errorf("Pipeliner without constructor: err = %v", err)
	}
	if _, err := pc.DeviceConfig("tofino"); !errors.Is(err, pipeline.ErrNoDeviceConfig) || !strings.Contains(err.Error(), "have emulated") {
		t.Errorf("DeviceConfig(tofino): err = %v", err)
	}
	if _, err := pc.ForwardingPipelineConfig("tofino"); !errors.Is(err, pipeline.ErrNoDeviceConfig) {
		t.Errorf("ForwardingPipelineConfig(tofino): err = %v", err)
	}
	if _, err := (&pipeline.Pipeconf{ID: "x"}).ForwardingPipelineConfig("emulated"); err == nil {
		t.Error("ForwardingPipelineConfig without schema: no error")
	}
	bad := &pipeline.Pipeconf{ID: "x", Schema: pc.Schema, Constructor: func(*schema.Schema, pipeline.DeviceOptions) (pipeline.Pipeliner, error) {
		return nil, errors.New("wrong program")
	}}
	if _, err := bad.Pipeliner(); err == nil || !strings.Contains(err.Error(), `pipeconf "x": pipeliner: wrong program`) {
		t.Errorf("failing constructor: err = %v", err)
	}
}

func TestCookie(t *testing.T) {
	pc := basicPipeconf(t)
	a, b := pc.Cookie(pipeline.TargetBMv2), pc.Cookie(pipeline.TargetBMv2)
	if a != b || a == 0 {
		t.Errorf("Cookie not stable: %x, %x", a, b)
	}
	other := *pc
	other.DeviceConfigs = map[string][]byte{pipeline.TargetBMv2: []byte("{}")}
	if other.Cookie(pipeline.TargetBMv2) == a {
		t.Error("Cookie ignores the device config")
	}
	cfg, err := pc.ForwardingPipelineConfig(pipeline.TargetBMv2)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GetCookie().GetCookie() != a || len(cfg.GetP4DeviceConfig()) == 0 || cfg.GetP4Info() != pc.Schema.P4Info() {
		t.Errorf("config: cookie %x, %d bytes", cfg.GetCookie().GetCookie(), len(cfg.GetP4DeviceConfig()))
	}
}

func TestRegistry(t *testing.T) {
	pc := basicPipeconf(t)
	var r pipeline.Registry // the zero value is ready
	if err := r.Register(pc); err != nil {
		t.Fatal(err)
	}
	other := *pc
	other.ID = "a-copy"
	if err := r.Register(&other); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		p    *pipeline.Pipeconf
		want string
	}{
		{nil, "nil pipeconf"},
		{&pipeline.Pipeconf{Schema: pc.Schema}, "without an ID"},
		{&pipeline.Pipeconf{ID: "x"}, `pipeconf "x" without a schema`},
		{pc, `pipeconf "onos-basic" is already registered`},
	} {
		if err := r.Register(tt.p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Register: err = %v, want %q", err, tt.want)
		}
	}
	if got := strings.Join(r.IDs(), ","); got != "a-copy,onos-basic" {
		t.Errorf("IDs = %s", got)
	}
	if all := r.All(); len(all) != 2 || all[1] != pc {
		t.Errorf("All = %v", all)
	}
	if got, err := r.Get("onos-basic"); err != nil || got != pc {
		t.Errorf("Get = %v, %v", got, err)
	}
	_, err := r.Get("tofino-magic")
	if !errors.Is(err, pipeline.ErrUnknownPipeconf) || !strings.Contains(err.Error(), `"tofino-magic" (have a-copy, onos-basic)`) {
		t.Errorf("Get unknown: err = %v", err)
	}
	if _, err := pipeline.NewRegistry(pc, pc); err == nil {
		t.Error("NewRegistry with a duplicate: no error")
	}
	// Concurrent use.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c := *pc
			c.ID = strings.Repeat("x", i+1)
			if err := r.Register(&c); err != nil {
				t.Error(err)
			}
			_, _ = r.Get("onos-basic")
			_ = r.All()
		})
	}
	wg.Wait()
	if n := len(r.IDs()); n != 10 {
		t.Errorf("%d pipeconfs, want 10", n)
	}
}

func TestHashID(t *testing.T) {
	for _, bits := range []int{-1, 0, 1, 2, 9, 16, 32, 64} {
		w := max(1, min(bits, 32))
		limit := uint64(1)<<w - 1
		if limit == 0 {
			limit = 1
		}
		seen := map[uint32]bool{}
		for i := range 200 {
			id := pipeline.HashID("ns", strings.Repeat("n", i), bits)
			if id == 0 || uint64(id) > max(limit, 1) {
				t.Fatalf("HashID(bits=%d) = %d, want 1..%d", bits, id, limit)
			}
			if id != pipeline.HashID("ns", strings.Repeat("n", i), bits) {
				t.Fatal("HashID is not stable")
			}
			seen[id] = true
		}
		if bits >= 16 && len(seen) < 195 {
			t.Errorf("bits=%d: only %d distinct IDs of 200", bits, len(seen))
		}
	}
	if pipeline.HashID("a", "x", 32) == pipeline.HashID("b", "x", 32) {
		t.Error("namespaces do not separate IDs")
	}
}
