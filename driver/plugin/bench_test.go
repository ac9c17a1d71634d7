package plugin_test

import (
	"log/slog"
	"testing"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/driver/plugin"
	"github.com/p4fabric/fabric/driver/plugin/internal/testdevice"
)

// BenchmarkIdentity measures what the process boundary costs: the test
// device's Identity (a static answer) called in process, and through its
// plugin (one gRPC call over go-plugin's mTLS Unix socket).
//
//	go test -run '^$' -bench Identity -benchtime 2000x ./driver/plugin/
func BenchmarkIdentity(b *testing.B) {
	ctx := testCtx(b)
	sw := startSwitch(b)
	log := slog.New(slog.DiscardHandler)
	spec := driver.Spec{Name: "leaf1", Address: sw.Addr(), DeviceID: 1, Insecure: true,
		Options: map[string]string{"protocols": "gnmi"}}

	b.Run("in-process", func(b *testing.B) {
		dev, err := testdevice.Open(log)(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		defer dev.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dev.Identity(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plugin", func(b *testing.B) {
		d, err := plugin.Load(testPlugin, plugin.WithHostLogger(log))
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		dev, err := d.Open(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		defer dev.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dev.Identity(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
