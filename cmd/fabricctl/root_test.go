package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// run executes a fresh fabricctl command tree with args and returns what it
// wrote to stdout and stderr.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestRoot(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantErr    string   // substring of the error; empty means success
		wantStdout []string // substrings of stdout
	}{
		{name: "no args prints help", args: nil, wantStdout: []string{"Usage:", "fabricctl [command]", "-o, --output format", "version"}},
		{name: "bogus output with command", args: []string{"-o", "bogus", "version"}, wantErr: `invalid argument "bogus" for "-o, --output" flag: unsupported output format "bogus" (want one of table, json, yaml)`},
		{name: "bogus output long form", args: []string{"--output=xml"}, wantErr: `unsupported output format "xml"`},
		{name: "bogus output after command", args: []string{"version", "-o", "toml"}, wantErr: `unsupported output format "toml"`},
		{name: "empty output", args: []string{"-o", "", "version"}, wantErr: `unsupported output format ""`},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate" for "fabricctl"`},
		{name: "unknown command suggestion", args: []string{"versio"}, wantErr: "Did you mean this?\n\tversion"},
		{name: "completion bash", args: []string{"completion", "bash"}, wantStdout: []string{"bash completion", "fabricctl"}},
		{name: "completion zsh", args: []string{"completion", "zsh"}, wantStdout: []string{"#compdef fabricctl"}},
		{name: "output flag completion", args: []string{"__complete", "-o", ""}, wantStdout: []string{"table\njson\nyaml\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := run(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v, want success", err)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, stdout)
				}
			}
		})
	}
}

func TestCommandsDocumented(t *testing.T) {
	root := newRootCmd()
	for _, c := range root.Commands() {
		if c.Short == "" {
			t.Errorf("command %q has no Short description", c.Name())
		}
		if c.InheritedFlags().Lookup("output") == nil {
			t.Errorf("command %q does not inherit --output", c.Name())
		}
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, stdout string)
	}{
		{
			name: "table",
			args: []string{"version"},
			check: func(t *testing.T, stdout string) {
				lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				if len(lines) != 2 {
					t.Fatalf("want header and one row, got %q", stdout)
				}
				if got := strings.Fields(lines[0]); strings.Join(got, " ") != "VERSION COMMIT GO PLATFORM" {
					t.Errorf("header = %q", lines[0])
				}
				want := "v1.2.3    abc123   " + runtime.Version() + "   " + runtime.GOOS + "/" + runtime.GOARCH
				if lines[1] != want {
					t.Errorf("row = %q, want %q", lines[1], want)
				}
			},
		},
		{
			name: "json",
			args: []string{"version", "-o", "json"},
			check: func(t *testing.T, stdout string) {
				var got map[string]string
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
				}
				want := map[string]string{"version": "v1.2.3", "commit": "abc123", "go_version": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
				if !strings.HasPrefix(stdout, "{\n  \"version\": ") {
					t.Errorf("JSON is not indented: %q", stdout)
				}
			},
		},
		{
			name: "yaml",
			args: []string{"-o", "yaml", "version"},
			check: func(t *testing.T, stdout string) {
				want := "commit: abc123\ngo_version: " + runtime.Version() + "\nplatform: " + runtime.GOOS + "/" + runtime.GOARCH + "\nversion: v1.2.3\n"
				if stdout != want {
					t.Errorf("stdout = %q, want %q", stdout, want)
				}
			},
		},
	}
	oldVersion, oldCommit := version, commit
	version, commit = "v1.2.3", "abc123"
	t.Cleanup(func() { version, commit = oldVersion, oldCommit })

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := run(t, tt.args...)
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			tt.check(t, stdout)
		})
	}
}

func TestVersionRejectsArgs(t *testing.T) {
	if _, _, err := run(t, "version", "extra"); err == nil || !strings.Contains(err.Error(), "unknown command") && !strings.Contains(err.Error(), "accepts 0 arg") {
		t.Fatalf("error = %v, want an argument error", err)
	}
}

func TestVersionDefaults(t *testing.T) {
	info := currentVersion() // no ldflags in tests
	if info.Version == "" || info.GoVersion != runtime.Version() {
		t.Errorf("currentVersion() = %+v", info)
	}
}
