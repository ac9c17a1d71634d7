package orchestrator_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/p4fabric/fabric/driver/builtin"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/store/bolt"
	"github.com/p4fabric/fabric/testbed"
	"github.com/p4fabric/fabric/testbed/topology"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// P6 measures how many emulated boxes one orchestrator holds and what each
// costs it. It takes minutes and thousands of sockets, so it runs only when
// asked:
//
//	FABRIC_P6=100,250,500,1000 go test -run='^TestP6BoxesPerOrchestrator$' -v -timeout=60m ./orchestrator/
//
// FABRIC_P6_SETTLE (a duration, default 35s) is how long the orchestrator
// runs with its default timers after the commit before it is measured again:
// long enough for a reconcile pass over every box.
const (
	p6Env        = "FABRIC_P6"
	p6SettleEnv  = "FABRIC_P6_SETTLE"
	p6SwitchesEn = "FABRIC_P6_SWITCHES" // set in the child process only
)

// raiseNoFile raises the soft limit of open files to the hard limit: every
// box is a listener and a few connections.
func raiseNoFile(t *testing.T) uint64 {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Logf("setrlimit NOFILE to %d: %v", lim.Max, err)
		}
	}
	return lim.Cur
}

// TestP6Switches is the child process of TestP6BoxesPerOrchestrator: it
// starts the number of unlinked testbed switches FABRIC_P6_SWITCHES says,
// prints "switch <name> <addr> <device id>" for each and "ready", and runs
// until its stdin closes (the parent is done or died).
func TestP6Switches(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(p6SwitchesEn))
	if err != nil {
		t.Skip("the child process of TestP6BoxesPerOrchestrator")
	}
	raiseNoFile(t)
	topo := &topology.Topology{}
	for m := 1; m <= n; m++ {
		topo.Switches = append(topo.Switches, topology.Switch{Name: fmt.Sprintf("sw%04d", m), DeviceID: uint64(m), Ports: 4})
	}
	tb, err := testbed.Start(topo)
	if err != nil {
		fmt.Printf("error %v\n", err)
		t.Fatal(err)
	}
	defer tb.Close()
	w := bufio.NewWriter(os.Stdout)
	for _, sw := range tb.Switches() {
		fmt.Fprintf(w, "switch %s %s %d\n", sw.Name(), sw.Addr(), sw.DeviceID())
	}
	fmt.Fprintln(w, "ready")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// Block until the parent closes stdin.
	_, _ = bufio.NewReader(os.Stdin).ReadString(0)
}

// p6Switches starts n switches in a child process and returns their
// specs and the child's pid; the child stops at cleanup.
func p6Switches(t *testing.T, ctx context.Context, n int) ([]inventory.BoxSpec, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestP6Switches$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), p6SwitchesEn+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	var specs []inventory.BoxSpec
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "switch":
			id, err := strconv.ParseUint(f[3], 10, 64)
			if err != nil {
				t.Fatalf("child: %q: %v", sc.Text(), err)
			}
			specs = append(specs, inventory.BoxSpec{Name: f[1], Driver: builtin.Emulated, Address: f[2],
				Role: inventory.RoleForwarder, DeviceID: id, Insecure: true})
		case len(f) == 1 && f[0] == "ready":
			go func() { _, _ = bufio.NewReader(stdout).WriteTo(os.Stdout) }()
			if len(specs) != n {
				t.Fatalf("child started %d switches, want %d", len(specs), n)
			}
			return specs, cmd.Process.Pid
		case len(f) > 0 && f[0] == "error":
			t.Fatalf("child: %s", sc.Text())
		}
	}
	t.Fatalf("child ended before it was ready (%v)", sc.Err())
	return nil, 0
}

// p6Mem is the orchestrator process's memory after a full GC.
type p6Mem struct {
	heapInuse, stackInuse, sys uint64
	goroutines                 int
}

func p6Measure() p6Mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return p6Mem{heapInuse: ms.HeapInuse, stackInuse: ms.StackInuse, sys: ms.Sys, goroutines: runtime.NumGoroutine()}
}

// rssKB reads VmRSS of a process (kB), 0 when it cannot.
func rssKB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	return 0
}

// TestP6BoxesPerOrchestrator (issue P6): for each N of FABRIC_P6, N
// emulated switches run in a child process; one orchestrator with its
// default timers (reconciler every 30s, monitor, time sync) registers them
// all (32 at a time), commits a small config to every box, and runs on for
// FABRIC_P6_SETTLE. It reports the orchestrator process's heap in use,
// memory from the OS and goroutines, in all and per box, after the commit
// and after the settle time.
func TestP6BoxesPerOrchestrator(t *testing.T) {
	steps := os.Getenv(p6Env)
	if steps == "" {
		t.Skip("P6 takes minutes: set " + p6Env + "=100,250,500,1000 to run it")
	}
	settle := 35 * time.Second
	if s := os.Getenv(p6SettleEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s: %v", p6SettleEnv, err)
		}
		settle = d
	}
	t.Logf("open files limit %d", raiseNoFile(t))
	for _, s := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("%s: bad step %q", p6Env, s)
		}
		ok := t.Run(fmt.Sprintf("boxes=%d", n), func(t *testing.T) { p6Run(t, n, settle) })
		if !ok {
			t.Logf("stopped at %d boxes", n)
			return
		}
	}
}

func p6Run(t *testing.T, n int, settle time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute+settle)
	defer cancel()
	t0 := time.Now()
	specs, child := p6Switches(t, ctx, n)
	t.Logf("%d switches up in the child in %v", n, time.Since(t0).Round(time.Millisecond))

	st, err := bolt.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	before := p6Measure()
	o, err := orchestrator.New(ctx, st, reg, orchestrator.WithMonitor(), orchestrator.WithTimeSync())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()

	t0 = time.Now()
	const batch = 32
	sem := make(chan struct{}, batch)
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for _, sp := range specs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := o.Register(ctx, sp); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s: %v", sp.Name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d boxes failed to register, e.g. %s", len(errs), n, errs[0])
	}
	reg1 := time.Since(t0)

	cfg, err := goal.Parse(txntest.ConfigYAML(1, n, 1))
	if err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	res, err := o.Commit(ctx, cfg)
	if err != nil {
		t.Fatalf("commit to %d boxes: %v", n, err)
	}
	commit := time.Since(t0)
	connected := func() int {
		boxes, err := o.Boxes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, b := range boxes {
			if o.Connected(b.Serial) {
				k++
			}
		}
		return k
	}
	if got := connected(); got != n {
		t.Errorf("%d boxes connected, want %d", got, n)
	}
	report := func(when string, m p6Mem) {
		per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) / 1024 }
		t.Logf("P6 %d boxes, %s: heap in use %.1f MB (%.0f KB/box), stacks %.1f MB (%.0f KB/box), sys %.1f MB (%.0f KB/box), goroutines %d (%.1f/box), RSS %d MB; child switches RSS %d MB",
			n, when, float64(m.heapInuse)/(1<<20), per(m.heapInuse, before.heapInuse), float64(m.stackInuse)/(1<<20), per(m.stackInuse, before.stackInuse),
			float64(m.sys)/(1<<20), per(m.sys, before.sys), m.goroutines, float64(m.goroutines-before.goroutines)/float64(n), rssKB(os.Getpid())/1024, rssKB(child)/1024)
	}
	t.Logf("P6 %d boxes: registered in %v, version %d committed in %v", n, reg1.Round(time.Millisecond), res.Version, commit.Round(time.Millisecond))
	report("after commit", p6Measure())
	if settle > 0 {
		timer := time.NewTimer(settle)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			t.Fatal(ctx.Err())
		}
		if got := connected(); got != n {
			t.Errorf("after %v: %d boxes connected, want %d", settle, got, n)
		}
		report("after "+settle.String(), p6Measure())
	}
	if err := o.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
