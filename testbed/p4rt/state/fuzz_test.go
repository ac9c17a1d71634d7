package state

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/p4fabric/fabric/p4/schema"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// fuzzInfos are the P4Infos a fuzzed WriteRequest runs against, chosen by
// its device_id.
var fuzzInfos = []string{"features", "onos-basic", "fabric-v1model", "sai-middleblock", "bench"}

var (
	fuzzSchemasOnce sync.Once
	fuzzSchemas     []*schema.Schema
)

func schemasForFuzz(t testing.TB) []*schema.Schema {
	fuzzSchemasOnce.Do(func() {
		for _, n := range fuzzInfos {
			fuzzSchemas = append(fuzzSchemas, loadSchema(t, n))
		}
	})
	return fuzzSchemas
}

// checkStatus checks that err is nil or a well-formed status error for n
// items.
func checkStatus(t *testing.T, err error, n int) {
	t.Helper()
	if err == nil {
		return
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a status error: %v", err)
	}
	if st.Code() == codes.Unknown {
		ds := st.Details()
		if len(ds) != n {
			t.Fatalf("%d details for %d items: %v", len(ds), n, err)
		}
		for _, d := range ds {
			if _, ok := d.(*p4v1.Error); !ok {
				t.Fatalf("detail %T", d)
			}
		}
	}
}

// readAll reads the whole state with every resource asked for, checks
// that each entity marshals and returns the marshalled entities, sorted.
func readAll(t *testing.T, d *Device) []string {
	t.Helper()
	qs := []proto.Message{
		&p4v1.TableEntry{CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}, MeterCounterData: &p4v1.MeterCounterData{}},
		&p4v1.TableEntry{IsDefaultAction: true, CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}},
		&p4v1.ActionProfileMember{}, &p4v1.ActionProfileGroup{},
		&p4v1.CounterEntry{}, &p4v1.MeterEntry{CounterData: &p4v1.MeterCounterData{}}, &p4v1.RegisterEntry{},
		&p4v1.DirectCounterEntry{}, &p4v1.DirectMeterEntry{},
		&p4v1.DigestEntry{}, &p4v1.ValueSetEntry{}, mcast(0), clone(0),
	}
	es, err := tryRead(d, qs...)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
		if err != nil {
			t.Fatalf("entity does not marshal: %v", err)
		}
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}

// FuzzWrite decodes arbitrary bytes as a WriteRequest and applies it to a
// fresh device of the P4Info its device_id selects: Write must never panic
// and must answer with a well-formed status; the state must read back, and
// must carry over unchanged to a new device of the same P4Info.
func FuzzWrite(f *testing.F) {
	schemasForFuzz(f)
	f.Fuzz(fuzzWriteOnce)
}

// fuzzWriteOnce is the body of FuzzWrite.
func fuzzWriteOnce(t *testing.T, data []byte) {
	req := &p4v1.WriteRequest{}
	if proto.Unmarshal(data, req) != nil {
		return
	}
	ss := schemasForFuzz(t)
	s := ss[req.GetDeviceId()%uint64(len(ss))]
	d := New(s)
	err := d.Write(req.GetUpdates(), req.GetAtomicity(), nil)
	checkStatus(t, err, len(req.GetUpdates()))
	// Again, on the state the first write left, all or nothing.
	before := readAll(t, d)
	err = d.Write(req.GetUpdates(), p4v1.WriteRequest_ROLLBACK_ON_ERROR, nil)
	checkStatus(t, err, len(req.GetUpdates()))
	after := readAll(t, d)
	if err != nil && !equalStrings(before, after) {
		t.Fatalf("rolled-back write changed the state:\n%v\n%v", before, after)
	}
	n := New(s)
	if err := n.Reconcile(d); err != nil {
		t.Fatalf("reconcile under the same P4Info: %v", err)
	}
	if got := readAll(t, n); !equalStrings(after, got) {
		t.Fatalf("reconcile changed the state:\n%v\n%v", after, got)
	}
}

var (
	fuzzReadDevOnce sync.Once
	fuzzReadDev     *Device
)

// FuzzRead decodes arbitrary bytes as a ReadRequest and runs it against a
// populated device: Read must never panic, every entity must marshal and
// the status must be well-formed.
func FuzzRead(f *testing.F) {
	fuzzReadDevOnce.Do(func() {
		fuzzReadDev = newDev(f, "features")
		populate(f, fuzzReadDev)
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &p4v1.ReadRequest{}
		if proto.Unmarshal(data, req) != nil {
			return
		}
		err := fuzzReadDev.Read(req.GetEntities(), func(es []*p4v1.Entity) error {
			for _, e := range es {
				if _, err := proto.Marshal(e); err != nil {
					t.Fatalf("entity does not marshal: %v", err)
				}
			}
			return nil
		})
		checkStatus(t, err, len(req.GetEntities()))
	})
}

// TestFuzzCorpus regenerates the committed seed corpora from valid (and
// deliberately invalid) requests when FABRIC_FUZZ_CORPUS=1:
//
//	FABRIC_FUZZ_CORPUS=1 go test -run TestFuzzCorpus ./testbed/p4rt/state/
func TestFuzzCorpus(t *testing.T) {
	if os.Getenv("FABRIC_FUZZ_CORPUS") != "1" {
		t.Skip("set FABRIC_FUZZ_CORPUS=1 to regenerate testdata/fuzz")
	}
	infoIndex := map[string]uint64{}
	for i, n := range fuzzInfos {
		infoIndex[n] = uint64(i)
	}
	writeSeed := func(dir, name string, m proto.Message) {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "fuzz", dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range writeCases() {
		us := append(append([]*p4v1.Update{}, c.setup...), c.u)
		writeSeed("FuzzWrite", c.name, &p4v1.WriteRequest{DeviceId: infoIndex[c.infoName()], Updates: us})
	}
	var us []*p4v1.Update
	for i := 0; i < 20; i++ {
		us = append(us, ins(benchRoute(i)))
	}
	writeSeed("FuzzWrite", "bench_routes", &p4v1.WriteRequest{DeviceId: infoIndex["bench"], Updates: us, Atomicity: p4v1.WriteRequest_ROLLBACK_ON_ERROR})
	pop := newDev(t, "features")
	populate(t, pop)
	var all []*p4v1.Update
	for _, e := range mustReadEntities(t, pop) {
		all = append(all, &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e})
	}
	writeSeed("FuzzWrite", "populated_state", &p4v1.WriteRequest{Updates: all, Atomicity: p4v1.WriteRequest_DATAPLANE_ATOMIC})

	reads := map[string][]proto.Message{
		"everything": {&p4v1.TableEntry{CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}, MeterCounterData: &p4v1.MeterCounterData{}, TimeSinceLastHit: &p4v1.TableEntry_IdleTimeout{}},
			&p4v1.TableEntry{IsDefaultAction: true}, &p4v1.ActionProfileMember{}, &p4v1.ActionProfileGroup{},
			&p4v1.CounterEntry{}, &p4v1.MeterEntry{}, &p4v1.RegisterEntry{}, &p4v1.DirectCounterEntry{}, &p4v1.DirectMeterEntry{},
			&p4v1.DigestEntry{}, &p4v1.ValueSetEntry{}, mcast(0), clone(0)},
		"acl_by_key":          {te(tACL, 1, nil, tn(1, ip(10, 0, 0, 0), ip(255, 0, 0, 0)))},
		"acl_by_match":        {te(tACL, 0, nil, tn(1, ip(10, 0, 0, 0), ip(255, 0, 0, 0)))},
		"tiny_by_action":      {&p4v1.TableEntry{TableId: tTiny, Action: direct(act(aSetPort))}},
		"tiny_default":        {defEntry(tTiny, nil)},
		"idle_time":           {&p4v1.TableEntry{TableId: tIdle, TimeSinceLastHit: &p4v1.TableEntry_IdleTimeout{}}},
		"ports_string_key":    {te(tPorts, 2, nil, ex(1, []byte("Ethernet0")...), op(2, 0x0a))},
		"direct_counter_key":  {&p4v1.DirectCounterEntry{TableEntry: aclEntry(1)}},
		"direct_meter_table":  {&p4v1.DirectMeterEntry{TableEntry: &p4v1.TableEntry{TableId: tACL}, CounterData: &p4v1.MeterCounterData{}}},
		"counter_cell":        {&p4v1.CounterEntry{CounterId: cPort, Index: idx(2)}},
		"meter_cell":          {&p4v1.MeterEntry{MeterId: mPolicer, Index: idx(1)}},
		"register_cell":       {&p4v1.RegisterEntry{RegisterId: rFlow, Index: idx(3)}},
		"member_one":          {&p4v1.ActionProfileMember{ActionProfileId: pSelector, MemberId: 1}},
		"group_one":           {&p4v1.ActionProfileGroup{ActionProfileId: pSelector, GroupId: 3}},
		"digest_one":          {&p4v1.DigestEntry{DigestId: dLearn}},
		"value_set_one":       {&p4v1.ValueSetEntry{ValueSetId: vsTrill}},
		"mcast_one":           {mcast(1)},
		"bad_queries":         {&p4v1.TableEntry{TableId: 0x02ffffff}, &p4v1.CounterEntry{CounterId: cPort, Index: idx(99)}, &p4v1.ExternEntry{}},
		"bad_key":             {te(tTiny, 0, nil, lp(1, 0, 1))},
		"table_zero_filtered": {&p4v1.TableEntry{Priority: 1}},
	}
	for name, qs := range reads {
		req := &p4v1.ReadRequest{}
		for _, q := range qs {
			req.Entities = append(req.Entities, ent(q))
		}
		writeSeed("FuzzRead", name, req)
	}
	t.Logf("wrote %d write seeds and %d read seeds", len(writeCases())+2, len(reads))
}

// mustReadEntities reads the populated state back as entities fit for
// INSERT updates (table entries without resources, members, groups...).
func mustReadEntities(t *testing.T, d *Device) []*p4v1.Entity {
	es, err := tryRead(d, &p4v1.ActionProfileMember{}, &p4v1.ActionProfileGroup{}, &p4v1.TableEntry{}, &p4v1.DigestEntry{}, mcast(0), clone(0))
	if err != nil {
		t.Fatal(fmt.Errorf("read populated state: %w", err))
	}
	return es
}
