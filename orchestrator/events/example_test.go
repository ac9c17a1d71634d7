package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/p4fabric/fabric/orchestrator/events"
)

// Subscribe to port-down events, publish, and print what arrives.
func Example() {
	bus, err := events.NewBus()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bus.Close()

	sub, err := bus.Subscribe(context.Background(),
		events.Filter{Kinds: []events.Kind{events.PortDown}}, events.WithName("example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Cancel()

	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	_, _ = bus.Publish(events.Event{Kind: events.PortUp, Module: 3, Port: 12, ObservedTime: at})
	_, _ = bus.Publish(events.Event{
		Kind: events.PortDown, Module: 3, Serial: "SN-3", Port: 12,
		SourceTime:   at.Add(time.Second),
		ObservedTime: at.Add(time.Second + 2*time.Millisecond),
		Message:      "eth-3/0/12 carrier lost",
	})

	e := <-sub.C()
	fmt.Println(e)
	b, _ := json.Marshal(e)
	fmt.Println(string(b))
	for _, k := range bus.Stats().Kinds {
		fmt.Printf("%s: %d published, source→observed max %v\n", k.Kind, k.Published, k.SourceToObserved.Max)
	}
	// Output:
	// #2 port-down module=3 serial=SN-3 port=12: eth-3/0/12 carrier lost
	// {"seq":2,"kind":"port-down","module":3,"serial":"SN-3","port":12,"source_time":"2025-03-01T12:00:01Z","observed_time":"2025-03-01T12:00:01.002Z","message":"eth-3/0/12 carrier lost"}
	// port-up: 1 published, source→observed max 0s
	// port-down: 1 published, source→observed max 2ms
}
