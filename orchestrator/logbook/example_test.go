package logbook_test

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/logbook"
)

// Merge two boxes with skewed clocks, an event and an operation log into
// one log ordered by corrected time.
func Example() {
	// A long window keeps this example independent of machine speed;
	// Flush then emits everything at once.
	l, err := logbook.New(logbook.WithWindow(time.Minute))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	// Box 1's clock runs 50ms ahead, box 2's 30ms behind.
	_ = l.SetOffset(1, 50*time.Millisecond, time.Millisecond)
	_ = l.SetOffset(2, -30*time.Millisecond, time.Millisecond)

	now := time.Now()
	// Box 1 logged at true time now-10ms; box 2 at now-20ms. By their
	// raw timestamps box 2's message would come 90ms later.
	_ = l.AddMessage(logbook.SystemMessage{Module: 1, Time: now.Add(40 * time.Millisecond),
		Severity: logbook.Warning, Msg: "box 1: fan 2 slow"})
	_ = l.AddMessage(logbook.SystemMessage{Module: 2, Time: now.Add(-50 * time.Millisecond),
		Severity: logbook.Error, Msg: "box 2: port 7 LOS"})
	_ = l.AddEvent(events.Event{Kind: events.PortDown, Module: 2, Port: 7,
		SourceTime: now.Add(-45 * time.Millisecond), Message: "port 7 down"})

	log := slog.New(logbook.Handler(l))
	log.Info("rerouting around link", "op", "op-42", "module", 2)

	l.Flush()
	records, err := l.Query(logbook.Filter{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range records {
		fmt.Printf("module %d %-9s %-7s offset %-5v op=%q %s\n", r.Module, r.Source, r.Severity, r.Offset, r.OpID, r.Message)
	}
	// Output:
	// module 2 system    error   offset -30ms op="" box 2: port 7 LOS
	// module 2 event     warning offset -30ms op="" port 7 down
	// module 1 system    warning offset 50ms  op="" box 1: fan 2 slow
	// module 2 operation info    offset 0s    op="op-42" rerouting around link
}
