package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

func TestOpViewTable(t *testing.T) {
	tests := []struct {
		name string
		op   *nbpb.Operation
		want [][]string
	}{
		{
			name: "running, no box yet",
			op:   &nbpb.Operation{Id: "op-1", Kind: "commit", State: nbpb.Operation_RUNNING},
			want: [][]string{{"op-1", "commit", "RUNNING", "-", "-", "-", "-", "-", "-", "-", "-"}},
		},
		{
			name: "committed, boxes sorted",
			op: &nbpb.Operation{Id: "op-2", Kind: "commit", State: nbpb.Operation_COMMITTED, Version: 4,
				Changes: map[string]*nbpb.Changes{
					"SN2": {Inserts: 3, Gnmi: 1},
					"SN1": {Modifies: 2, Deletes: 1, PipelineSet: true},
				}},
			want: [][]string{
				{"op-2", "commit", "COMMITTED", "4", "SN1", "0", "2", "1", "0", "yes", "-"},
				{"op-2", "commit", "COMMITTED", "4", "SN2", "3", "0", "0", "1", "no", "-"},
			},
		},
		{
			name: "aborted with reasons",
			op: &nbpb.Operation{Id: "op-3", Kind: "rollback", State: nbpb.Operation_ABORTED, Error: "box SN2 failed",
				Reasons: map[string]string{"SN2": "write: RESOURCE_EXHAUSTED"}, Restored: true},
			want: [][]string{{"op-3", "rollback", "ABORTED", "-", "SN2", "-", "-", "-", "-", "-", "write: RESOURCE_EXHAUSTED"}},
		},
		{
			name: "failed before any box",
			op:   &nbpb.Operation{Id: "op-4", Kind: "commit", State: nbpb.Operation_FAILED, Error: "journal: disk full"},
			want: [][]string{{"op-4", "commit", "FAILED", "-", "-", "-", "-", "-", "-", "-", "journal: disk full"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newOpView(tc.op)
			got := v.TableRows()
			if len(got) != len(tc.want) {
				t.Fatalf("rows = %q, want %q", got, tc.want)
			}
			for i := range got {
				if strings.Join(got[i], "|") != strings.Join(tc.want[i], "|") {
					t.Errorf("row %d = %q, want %q", i, got[i], tc.want[i])
				}
				if len(got[i]) != len(v.TableHeaders()) {
					t.Errorf("row %d has %d cells for %d headers", i, len(got[i]), len(v.TableHeaders()))
				}
			}
		})
	}
}

func TestOpOutcome(t *testing.T) {
	if err := opOutcome(&nbpb.Operation{Id: "op-1", State: nbpb.Operation_COMMITTED}); err != nil {
		t.Fatalf("committed: %v", err)
	}
	err := opOutcome(&nbpb.Operation{Id: "op-2", State: nbpb.Operation_ABORTED, Error: "2 boxes failed",
		Reasons: map[string]string{"SN9": "timeout", "SN1": "UNAVAILABLE"}, Restored: true})
	if !errors.Is(err, errOperationFailed) {
		t.Fatalf("aborted: %v, want errOperationFailed", err)
	}
	msg := err.Error()
	for _, want := range []string{"operation op-2 ABORTED\n  box SN1: UNAVAILABLE\n  box SN9: timeout", "restored to the previous version"} {
		if !strings.Contains(msg, want) {
			t.Errorf("aborted error lacks %q:\n%s", want, msg)
		}
	}
	err = opOutcome(&nbpb.Operation{Id: "op-3", State: nbpb.Operation_ABORTED, Error: "restore of SN1 failed",
		Reasons: map[string]string{"SN1": "timeout"}})
	if err == nil || !strings.Contains(err.Error(), "op-3 ABORTED: restore of SN1 failed\n  box SN1: timeout") ||
		!strings.Contains(err.Error(), "fabricd keeps recovering") {
		t.Errorf("aborted unrestored: %v", err)
	}
	if err := opOutcome(&nbpb.Operation{Id: "op-4", State: nbpb.Operation_FAILED, Error: "x"}); !errors.Is(err, errOperationFailed) {
		t.Errorf("failed: %v", err)
	}
}

// progressCmd is a command whose standard error is buf.
func progressCmd(buf io.Writer) *cobra.Command {
	cmd := &cobra.Command{}
	cmd.SetErr(buf)
	return cmd
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	if p := newProgress(progressCmd(&buf), false); p != nil {
		t.Fatal("progress drawn on a buffer without --progress")
	}
	p := newProgress(progressCmd(&buf), true)
	for _, op := range []*nbpb.Operation{
		{State: nbpb.Operation_RUNNING}, // no phase yet: nothing drawn
		{Phase: "prepare", Done: 0, Total: 4},
		{Phase: "prepare", Done: 4, Total: 4},
		{Phase: "apply", Done: 1, Total: 4},
		{Phase: "apply", Done: 3, Total: 4},
		{Phase: "restore", Done: 1, Total: 2},
	} {
		p.update(op)
	}
	p.end()
	p.end() // idempotent
	out := buf.String()
	for _, want := range []string{"prepare", "4/4", "apply", "3/4", "restore", "1/2"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q: %q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 3 {
		t.Errorf("want one line per phase: %q", out)
	}
	var nilProgress *progress
	nilProgress.update(&nbpb.Operation{Phase: "apply", Total: 1}) // must not panic
	nilProgress.end()
}

func TestLiveTable(t *testing.T) {
	type rec struct {
		A string `json:"a"`
		B int    `json:"b"`
	}
	cols := []liveColumn{{"A", 4}, {"LONG HEADER", 2}, {"LAST", 0}}
	row := func(r rec) []string { return []string{r.A, countCell(r.B), ""} }
	recs := []rec{{"x", 1}, {"toolong", 22}}

	var buf bytes.Buffer
	p := &liveTable[rec]{format: output.FormatTable, w: &buf, columns: cols, row: row}
	for _, r := range recs {
		if err := p.print(r); err != nil {
			t.Fatal(err)
		}
	}
	want := "A      LONG HEADER   LAST\n" +
		"x      1             -\n" +
		"toolong   22            -\n"
	if buf.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", buf.String(), want)
	}

	buf.Reset()
	p = &liveTable[rec]{format: output.FormatJSON, w: &buf, columns: cols, row: row}
	for _, r := range recs {
		if err := p.print(r); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("JSON lines: %q", buf.String())
	}
	for i, l := range lines {
		var got rec
		if err := json.Unmarshal([]byte(l), &got); err != nil || got != recs[i] {
			t.Errorf("line %d %q = %+v, %v", i, l, got, err)
		}
	}

	buf.Reset()
	p = &liveTable[rec]{format: output.FormatYAML, w: &buf, columns: cols, row: row}
	_ = p.print(recs[0])
	if buf.String() != "---\na: x\nb: 1\n" {
		t.Errorf("YAML = %q", buf.String())
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(name, []byte("old good backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := writeAtomic(name, func(w io.Writer) (int64, error) {
		_, _ = w.Write([]byte("half"))
		return 4, errors.New("stream broke")
	})
	if err == nil || err.Error() != "stream broke" {
		t.Fatalf("error = %v", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "old good backup" {
		t.Fatalf("a failed backup replaced the old one: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("a failed backup left files: %v", entries)
	}
	n, err := writeAtomic(name, func(w io.Writer) (int64, error) {
		m, err := w.Write([]byte("new backup"))
		return int64(m), err
	})
	if err != nil || n != 10 {
		t.Fatalf("writeAtomic = %d, %v", n, err)
	}
	if b, _ := os.ReadFile(name); string(b) != "new backup" {
		t.Fatalf("backup = %q", b)
	}
	if _, err := writeAtomic(filepath.Join(dir, "no", "such", "dir"), nil); err == nil {
		t.Fatal("writeAtomic into a missing directory succeeded")
	}
}

func TestWithAttrs(t *testing.T) {
	if got := withAttrs("port down", map[string]string{"reason": "admin", "peer.module": "2"}); got != `port down peer.module="2" reason="admin"` {
		t.Errorf("withAttrs = %q", got)
	}
	if got := withAttrs("", map[string]string{"a": "b c"}); got != `a="b c"` {
		t.Errorf("withAttrs without message = %q", got)
	}
	if got := withAttrs("m", nil); got != "m" {
		t.Errorf("withAttrs without attrs = %q", got)
	}
}
