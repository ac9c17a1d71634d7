package northbound

import (
	"errors"
	"testing"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

func TestOpTable(t *testing.T) {
	tab := newOpTable(2)
	if _, err := tab.add("a", KindCommit, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.add("b", KindCommit, ""); err != nil {
		t.Fatal(err)
	}
	// Both running: the table is full.
	if _, err := tab.add("c", KindCommit, ""); !errors.Is(err, errTableFull) {
		t.Fatalf("add to a table of running operations: %v, want errTableFull", err)
	}
	_, changed, _ := tab.get("b")
	tab.progress(txn.Progress{ID: "b", Phase: txn.PhaseApply, Done: 1, Total: 4})
	select {
	case <-changed:
	default:
		t.Fatal("a progress report did not wake the watchers")
	}
	if pb, _, _ := tab.get("b"); pb.Phase != "apply" || pb.Done != 1 || pb.Total != 4 {
		t.Fatalf("after progress: %v", pb)
	}
	// b aborts; a commits; the oldest finished (a) goes first.
	tab.finish("b", nil, &txn.AbortError{ID: "b", Reasons: map[string]string{"SN1": "boom"}, Restored: true})
	tab.finish("a", &txn.Result{ID: "a", Version: 7, Changes: map[string]txn.Changes{"SN1": {Inserts: 3}}}, nil)
	tab.finish("a", nil, errors.New("late")) // an ended operation stays as it ended
	if pb, _, _ := tab.get("a"); pb.State != nbpb.Operation_COMMITTED || pb.Version != 7 || pb.Changes["SN1"].Inserts != 3 {
		t.Fatalf("a: %v", pb)
	}
	if pb, _, _ := tab.get("b"); pb.State != nbpb.Operation_ABORTED || !pb.Restored || pb.Reasons["SN1"] != "boom" {
		t.Fatalf("b: %v", pb)
	}
	if _, err := tab.add("c", KindCommit, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := tab.get("a"); ok {
		t.Fatal("the oldest finished operation was kept")
	}
	if l := tab.list(); len(l) != 2 || l[0].Id != "b" || l[1].Id != "c" {
		t.Fatalf("list %v, want b, c", l)
	}
	tab.finish("c", nil, errors.New("no store"))
	if pb, _, _ := tab.get("c"); pb.State != nbpb.Operation_FAILED || pb.Error != "no store" || pb.Ended == nil {
		t.Fatalf("c: %v", pb)
	}
	tab.close()
	if _, err := tab.add("d", KindCommit, ""); !errors.Is(err, errTableClosed) {
		t.Fatalf("add after close: %v", err)
	}
}
