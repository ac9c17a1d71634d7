package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestServerFlagErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"token and token file", []string{"device", "list", "--token", "a", "--token-file", empty}, "--token and --token-file are exclusive"},
		{"empty token file", []string{"device", "list", "--token-file", empty}, "--token-file " + empty + ": the file holds no token"},
		{"missing token file", []string{"device", "list", "--token-file", filepath.Join(dir, "nope")}, "--token-file: open"},
		{"insecure and tls", []string{"module", "list", "--insecure", "--tls-ca", empty}, "--insecure and --tls-ca/--tls-cert/--tls-key are exclusive"},
		{"bad ca", []string{"link", "list", "--tls-ca", filepath.Join(dir, "nope.pem")}, "--tls-ca/--tls-cert/--tls-key"},
		{"token over plaintext to a remote server", []string{"device", "list", "--insecure", "--server", "192.0.2.1:9345", "--token", "x"}, "--insecure with a token"},
		{"empty server", []string{"time", "--server", "", "--insecure"}, "--server is empty"},
		{"unreachable", []string{"device", "list", "--server", "127.0.0.1:1", "--insecure", "--token", "x"}, "UNAVAILABLE"},
		{"bad module", []string{"module", "show", "x", "--insecure"}, `module "x": want a module ID`},
		{"bad version", []string{"config", "rollback", "-1", "--insecure"}, "unknown shorthand flag"},
		{"bad version word", []string{"config", "rollback", "last", "--insecure"}, `version "last"`},
		{"diff args", []string{"config", "diff", "1", "--insecure"}, "want FROM and TO versions, or -f FILE"},
		{"diff file and args", []string{"config", "diff", "1", "2", "-f", empty, "--insecure"}, "unknown command"},
		{"empty config", []string{"config", "apply", empty, "--insecure"}, "config " + empty + ": empty"},
		{"register without name", []string{"device", "register", "--insecure"}, "--name is required"},
		{"register without device id", []string{"device", "register", "--name", "a", "--driver", "d", "--address", "a:1", "--role", "fabric", "--insecure"}, "--device-id is required"},
		{"register bad option", []string{"device", "register", "--name", "a", "--driver", "d", "--address", "a:1", "--role", "fabric", "--device-id", "1", "--option", "novalue", "--insecure"}, `--option "novalue": want KEY=VALUE`},
		{"events bad module", []string{"events", "--module", "0", "--insecure"}, "--module: module \"0\""},
		{"events negative replay", []string{"events", "--replay", "-3", "--insecure"}, "--replay -3: want 0 or more"},
		{"log bad severity", []string{"log", "--severity", "loud", "--insecure"}, `--severity "loud": want one of debug`},
		{"log bad source", []string{"log", "--source", "radio", "--insecure"}, `--source "radio": want one of event`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envToken, "")
			t.Setenv(envServer, "")
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestErrorPrefix(t *testing.T) {
	_, stderr, err := run(t, "device", "list", "--server", "127.0.0.1:1", "--insecure")
	if err == nil || !strings.HasPrefix(stderr, "fabricctl: UNAVAILABLE: ") {
		t.Fatalf("stderr = %q (error %v), want it to start with \"fabricctl: UNAVAILABLE: \"", stderr, err)
	}
}

func TestServerFlagsFromEnvironment(t *testing.T) {
	t.Setenv(envServer, "fabricd.example:4242")
	t.Setenv(envToken, "env-token")
	root := newRootCmd()
	cmd, _, err := root.Find([]string{"device", "list"})
	if err != nil {
		t.Fatal(err)
	}
	if f := cmd.Flag("server"); f == nil || f.DefValue != "fabricd.example:4242" {
		t.Fatalf("--server default = %v, want the environment's", f)
	}
	s := serverOptions{}
	if tok, err := s.resolveToken(); err != nil || tok != "env-token" {
		t.Fatalf("token from environment = %q, %v", tok, err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("  file-token \nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.tokenFile = file
	if tok, err := s.resolveToken(); err != nil || tok != "file-token" {
		t.Fatalf("token from file = %q, %v, want the first line, trimmed", tok, err)
	}
	s = serverOptions{token: "flag-token"}
	if tok, err := s.resolveToken(); err != nil || tok != "flag-token" {
		t.Fatalf("token from flag = %q, %v", tok, err)
	}

	t.Setenv(envServer, "")
	root = newRootCmd()
	cmd, _, _ = root.Find([]string{"events"})
	if f := cmd.Flag("server"); f == nil || f.DefValue != "127.0.0.1:"+defaultServerPort {
		t.Fatalf("--server default without the environment = %v", f)
	}
}

func TestEveryFabricdCommandHasServerFlags(t *testing.T) {
	root := newRootCmd()
	for _, path := range [][]string{
		{"device", "list"}, {"device", "register"}, {"device", "decommission"}, {"device", "reconcile"},
		{"module", "list"}, {"module", "show"}, {"link", "list"},
		{"config", "apply"}, {"config", "get"}, {"config", "diff"}, {"config", "history"}, {"config", "rollback"},
		{"operation", "list"}, {"operation", "get"}, {"operation", "watch"},
		{"events"}, {"log"}, {"time"}, {"backup"},
	} {
		cmd, _, err := root.Find(path)
		if err != nil || cmd.Name() != path[len(path)-1] {
			t.Errorf("%v: not found (%v)", path, err)
			continue
		}
		for _, name := range []string{"server", "token", "token-file", "tls-ca", "tls-cert", "tls-key", "insecure", "timeout", "output"} {
			if cmd.Flag(name) == nil {
				t.Errorf("%v has no --%s", path, name)
			}
		}
		if cmd.Short == "" {
			t.Errorf("%v has no Short description", path)
		}
	}
	// The device's own --insecure must not take the place of fabricd's.
	cmd, _, _ := root.Find([]string{"device", "register"})
	if f := cmd.Flag("insecure"); f == nil || !strings.Contains(f.Usage, "fabricd") {
		t.Errorf("device register --insecure = %v, want fabricd's", f)
	}
}

func TestRPCError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{status.Error(codes.PermissionDenied, "token is read-only"), "PERMISSION_DENIED: token is read-only (this needs an admin token)"},
		{status.Error(codes.Unauthenticated, "no token"), "UNAUTHENTICATED: no token (give a token with --token, --token-file or FABRIC_TOKEN)"},
		{status.Error(codes.InvalidArgument, `config: module "9": unknown`), `INVALID_ARGUMENT: config: module "9": unknown`},
		{status.Error(codes.DeadlineExceeded, "slow"), "DEADLINE_EXCEEDED: slow (--timeout bounds each request)"},
		{status.Error(codes.Unavailable, "box leaf1: not connected"), "UNAVAILABLE: box leaf1: not connected"},
		{status.Error(codes.Unavailable, "connection error: desc = refused"), "UNAVAILABLE: connection error: desc = refused (is fabricd running and reachable at --server? are --insecure/--tls-ca right?)"},
		{fmt.Errorf("wrapped: %w", status.Error(codes.NotFound, "no box")), "NOT_FOUND: no box"},
		{errors.New("plain"), "plain"},
	}
	for _, tc := range tests {
		got := rpcError(tc.err)
		if got.Error() != tc.want {
			t.Errorf("rpcError(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if st, ok := status.FromError(tc.err); ok && status.Code(got) != st.Code() {
			t.Errorf("rpcError(%v) lost the code: %v", tc.err, status.Code(got))
		}
		if rpcError(got) != got {
			t.Errorf("rpcError is not idempotent on %v", got)
		}
	}
	if rpcError(nil) != nil {
		t.Error("rpcError(nil) != nil")
	}
}

func TestCodeName(t *testing.T) {
	for c, want := range map[codes.Code]string{
		codes.OK: "OK", codes.NotFound: "NOT_FOUND", codes.FailedPrecondition: "FAILED_PRECONDITION",
		codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS", codes.Code(99): "CODE(99)",
	} {
		if got := codeName(c); got != want {
			t.Errorf("codeName(%d) = %q, want %q", c, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9345": true, "[::1]:9345": true, "localhost:1": true, "127.1.2.3:5": true,
		"10.0.0.1:9345": false, "fabricd:9345": false, "127.0.0.1": false, "": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestServerFlagsAnywhere: fabricd's connection flags stand before or after
// the command, and the device commands' own --insecure takes its place in
// their subtree.
func TestServerFlagsAnywhere(t *testing.T) {
	for _, args := range [][]string{
		{"--server", "127.0.0.1:1", "--insecure", "--timeout", "2s", "device", "list"},
		{"device", "list", "--server", "127.0.0.1:1", "--insecure", "--timeout", "2s"},
		{"--insecure", "gnmi", "get", "--target", "127.0.0.1:1", "--timeout", "2s", "/system"},
	} {
		_, _, err := run(t, args...)
		if err == nil {
			t.Errorf("%v: no error from an address nothing listens on", args)
			continue
		}
		if strings.Contains(err.Error(), "unknown") || strings.Contains(err.Error(), "flag") {
			t.Errorf("%v: %v; want the flags parsed and a connection error", args, err)
		}
	}
}
