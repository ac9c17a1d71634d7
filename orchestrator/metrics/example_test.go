package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/metrics"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
)

// An orchestrator's metrics in a registry of their own, served over HTTP.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "metrics-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	drivers, err := builtin.Registry()
	if err != nil {
		log.Fatal(err)
	}
	o, err := orchestrator.New(ctx, st, drivers)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()

	c, err := metrics.New(o)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "fabric_boxes_") || strings.HasPrefix(sc.Text(), "fabric_commits_total") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// fabric_boxes_connected 0
	// fabric_boxes_registered 0
	// fabric_commits_total{outcome="aborted"} 0
	// fabric_commits_total{outcome="committed"} 0
}
