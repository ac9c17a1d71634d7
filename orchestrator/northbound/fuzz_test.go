package northbound

import (
	"context"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
)

// FuzzCommitConfig feeds arbitrary config bytes to the Commit and Diff
// handlers (candidate) of a server over an orchestrator without boxes: they
// must answer, never panic. A config that is accepted starts a commit of
// an empty chassis; Close waits for those.
func FuzzCommitConfig(f *testing.F) {
	f.Add([]byte("version: 1\nroles:\n  forwarder: {pipeconf: fabric-v1model}\n"))
	f.Add([]byte(`{"version": 1, "interfaces": {"eth-1/0/1": {"enabled": true}}}`))
	f.Add([]byte("version: 1\nmodules:\n  \"1\":\n    objectives:\n      - route: {prefix: 10.0.0.0/8, next_hop: {id: a, port: 1}}\n"))
	f.Add([]byte("version: 2\n"))
	f.Add([]byte(""))
	f.Add([]byte("\x00\xff"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := bolt.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	reg, err := builtin.Registry()
	if err != nil {
		f.Fatal(err)
	}
	o, err := orchestrator.New(ctx, st, reg, orchestrator.WithReconcileInterval(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	defer o.Close()
	s, err := NewServer(o, WithoutAuth(), WithMaxOperations(16), WithCloseTimeout(10*time.Second))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	authorized := context.WithValue(ctx, authorizedKey{}, true)

	f.Fuzz(func(t *testing.T, cfg []byte) {
		ctx, cancel := context.WithTimeout(authorized, 10*time.Second)
		defer cancel()
		op, err := s.Commit(ctx, &nbpb.CommitRequest{Config: cfg, Comment: "fuzz"})
		if err == nil && (op.GetId() == "" || op.GetState() != nbpb.Operation_RUNNING) {
			t.Fatalf("accepted commit returned %v", op)
		}
		// An empty candidate is no candidate: versions 0..0 compare.
		if d, err := s.Diff(ctx, &nbpb.DiffRequest{Candidate: cfg}); err == nil && len(d.GetBoxes()) != 0 {
			t.Fatalf("a chassis without boxes has a diff: %v", d)
		}
	})
}
