// Package chassistest is the shared test fixture for "a testbed run as a
// chassis": a leaf-spine testbed of emulated switches, a bolt store in the
// test's temporary directory, the built-in drivers, an orchestrator on
// them, the switches registered as modules 1..N, a generator of "version v
// of the chassis config", and the northbound API served over TLS with an
// admin and a read-only token.
//
// Tests of the orchestrator, its northbound API and metrics, fabricctl and
// fabricd used to build this by hand, each slightly differently; one
// fixture keeps what they assert about the chassis comparable. It lives
// under testbed because it starts switches and an orchestrator: by the
// layer rule, orchestrator never imports testbed outside its tests, while
// testbed may import orchestrator. Like testbed/pipelinetest, it is a
// non-test package meant only for tests: every helper takes a testing.TB,
// fails the test on error and releases what it started with t.Cleanup.
//
// The default chassis is LeafSpine(2,2): spine1, spine2, leaf1, leaf2 with
// device IDs 1..4, registered in that order as modules 1..4, spines in the
// fabric role (onos-basic) and leaves as forwarders (fabric-v1model).
//
//	c := chassistest.Start(t)
//	o := c.Open(t) // reconcile interval 1h, box timeout 10s
//	c.RegisterAll(t, o)
//	cfg, err := goal.Parse(chassistest.ConfigYAML(1, 0))
//	if err != nil {
//		t.Fatal(err)
//	}
//	ctx := chassistest.Context(t, chassistest.Timeout)
//	if _, err := o.Commit(ctx, cfg); err != nil {
//		t.Fatal(err)
//	}
//
// Through the northbound API instead (TLS from a CA of the API's own, the
// tokens AdminToken and ReadToken):
//
//	api := c.Serve(t, o)
//	admin := api.Dial(t, chassistest.AdminToken)
//	c.RegisterAllAPI(t, admin)
//	op, err := admin.Commit(ctx, &nbpb.CommitRequest{Config: chassistest.ConfigYAML(1, 0)})
//	if err != nil {
//		t.Fatal(err)
//	}
//	end, _ := chassistest.Watch(t, ctx, admin, op.Id) // COMMITTED, version 1
//
// The package's tests run both and read every switch back.
package chassistest
