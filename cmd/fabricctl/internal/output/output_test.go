package output

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type sw struct {
	Name     string `json:"name"`
	DeviceID uint64 `json:"device_id"`
	Address  string `json:"address,omitempty"`
}

type swList []sw

func (l swList) TableHeaders() []string { return []string{"name", "device id", "address"} }
func (l swList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, s := range l {
		rows = append(rows, []string{s.Name, itoa(s.DeviceID), s.Address})
	}
	return rows
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

var switches = swList{
	{Name: "spine1", DeviceID: 1, Address: "127.0.0.1:9559"},
	{Name: "leaf10", DeviceID: 12},
}

const (
	wantTable = "" +
		"NAME     DEVICE ID   ADDRESS\n" +
		"spine1   1           127.0.0.1:9559\n" +
		"leaf10   12\n"
	wantJSON = `[
  {
    "name": "spine1",
    "device_id": 1,
    "address": "127.0.0.1:9559"
  },
  {
    "name": "leaf10",
    "device_id": 12
  }
]
`
	wantYAML = `- address: 127.0.0.1:9559
  device_id: 1
  name: spine1
- device_id: 12
  name: leaf10
`
)

func newPrinter(t *testing.T, f Format) (*Printer, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	p, err := New(f, &buf)
	if err != nil {
		t.Fatalf("New(%q): %v", f, err)
	}
	return p, &buf
}

func TestPrintFormats(t *testing.T) {
	row := func(s sw) []string { return []string{s.Name, itoa(s.DeviceID), s.Address} }
	headers := []string{"NAME", "DEVICE ID", "ADDRESS"}
	printers := []struct {
		name  string
		print func(*Printer) error
	}{
		{"Print Tabular", func(p *Printer) error { return p.Print(switches) }},
		{"Value", func(p *Printer) error {
			return p.Value(switches, headers, switches.TableRows)
		}},
		{"List", func(p *Printer) error { return List(p, []sw(switches), headers, row) }},
	}
	formats := []struct {
		format Format
		want   string
	}{
		{FormatTable, wantTable},
		{FormatJSON, wantJSON},
		{FormatYAML, wantYAML},
	}
	for _, pr := range printers {
		for _, f := range formats {
			t.Run(pr.name+"/"+string(f.format), func(t *testing.T) {
				p, buf := newPrinter(t, f.format)
				if err := pr.print(p); err != nil {
					t.Fatalf("print: %v", err)
				}
				if got := buf.String(); got != f.want {
					t.Errorf("output mismatch\ngot:\n%s\nwant:\n%s", got, f.want)
				}
			})
		}
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		headers []string
		rows    [][]string
		want    string
	}{
		{
			name:    "short rows padded",
			format:  FormatTable,
			headers: []string{"a", "bb", "c"},
			rows:    [][]string{{"1"}, {"22", "3"}},
			want:    "A    BB   C\n1\n22   3\n",
		},
		{
			name:    "headers only",
			format:  FormatTable,
			headers: []string{"Port", "Peer"},
			want:    "PORT   PEER\n",
		},
		{
			name:    "cells kept verbatim",
			format:  FormatTable,
			headers: []string{"LINK", "STATE"},
			rows:    [][]string{{"leaf1:1 <-> spine1:1", "up_and_running"}},
			want:    "LINK                   STATE\nleaf1:1 <-> spine1:1   up_and_running\n",
		},
		{
			name:    "json objects keyed by header",
			format:  FormatJSON,
			headers: []string{"PORT", "Peer Port"},
			rows:    [][]string{{"1", "spine1:3", "extra"}, {"2"}},
			want:    "[\n  {\n    \"peer_port\": \"spine1:3\",\n    \"port\": \"1\"\n  },\n  {\n    \"peer_port\": \"\",\n    \"port\": \"2\"\n  }\n]\n",
		},
		{
			name:    "yaml objects keyed by header",
			format:  FormatYAML,
			headers: []string{"PORT", "PEER"},
			rows:    [][]string{{"1", "spine1:3"}},
			want:    "- peer: spine1:3\n  port: \"1\"\n",
		},
		{
			name:    "json empty table is empty list",
			format:  FormatJSON,
			headers: []string{"PORT"},
			want:    "[]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, buf := newPrinter(t, tt.format)
			if err := p.Table(tt.headers, tt.rows); err != nil {
				t.Fatalf("Table: %v", err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("output mismatch\ngot:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestListEmpty(t *testing.T) {
	tests := []struct {
		format Format
		want   string
	}{
		{FormatTable, "NAME\n"},
		{FormatJSON, "[]\n"},
		{FormatYAML, "[]\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			p, buf := newPrinter(t, tt.format)
			if err := List(p, []sw(nil), []string{"NAME"}, func(s sw) []string { return []string{s.Name} }); err != nil {
				t.Fatalf("List: %v", err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrintNonTabular(t *testing.T) {
	v := map[string]any{"name": "leaf1", "ports": []int{1, 2}}
	tests := []struct {
		format Format
		want   string
	}{
		{FormatTable, "name: leaf1\nports:\n- 1\n- 2\n"}, // YAML fallback
		{FormatYAML, "name: leaf1\nports:\n- 1\n- 2\n"},
		{FormatJSON, "{\n  \"name\": \"leaf1\",\n  \"ports\": [\n    1,\n    2\n  ]\n}\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			p, buf := newPrinter(t, tt.format)
			if err := p.Print(v); err != nil {
				t.Fatalf("Print: %v", err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValueRowsOnlyInTableMode(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			p, _ := newPrinter(t, f)
			called := false
			if err := p.Value(struct{}{}, []string{"X"}, func() [][]string { called = true; return nil }); err != nil {
				t.Fatalf("Value: %v", err)
			}
			if want := f == FormatTable; called != want {
				t.Errorf("rows called = %v, want %v", called, want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"table", FormatTable, false},
		{"json", FormatJSON, false},
		{"yaml", FormatYAML, false},
		{"", "", true},
		{"JSON", "", true},
		{"bogus", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnsupportedFormat) {
					t.Fatalf("ParseFormat(%q) error = %v, want ErrUnsupportedFormat", tt.in, err)
				}
				if !strings.Contains(err.Error(), "table, json, yaml") {
					t.Errorf("error %q does not list the formats", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatFlagValue(t *testing.T) {
	f := FormatTable
	if err := f.Set("yaml"); err != nil || f != FormatYAML {
		t.Fatalf("Set(yaml) = %v, format %q", err, f)
	}
	if err := f.Set("xml"); err == nil {
		t.Fatal("Set(xml) succeeded")
	}
	if f != FormatYAML {
		t.Errorf("failed Set changed the format to %q", f)
	}
	if f.String() != "yaml" || f.Type() != "format" {
		t.Errorf("String() = %q, Type() = %q", f.String(), f.Type())
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("xml", &bytes.Buffer{}); !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), "format") {
		t.Errorf("New(xml) error = %v, want ErrUnsupportedFormat naming format", err)
	}
	if _, err := New(FormatJSON, nil); err == nil || !strings.Contains(err.Error(), "writer") {
		t.Errorf("New(json, nil) error = %v, want one naming writer", err)
	}
}

type failWriter struct{}

var errDiskFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestErrorsPropagate(t *testing.T) {
	for _, f := range Formats() {
		t.Run("write/"+string(f), func(t *testing.T) {
			p, err := New(f, failWriter{})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Print(switches); !errors.Is(err, errDiskFull) {
				t.Errorf("Print error = %v, want wrapped errDiskFull", err)
			}
		})
	}
	for _, f := range []Format{FormatJSON, FormatYAML} {
		t.Run("marshal/"+string(f), func(t *testing.T) {
			p, _ := newPrinter(t, f)
			if err := p.Print(make(chan int)); err == nil || !strings.Contains(err.Error(), "chan int") {
				t.Errorf("Print(chan) error = %v, want marshal error naming the type", err)
			}
		})
	}
}

func TestZeroPrinter(t *testing.T) {
	var p Printer
	if err := p.Print(switches); err == nil || !strings.Contains(err.Error(), "New") {
		t.Errorf("zero Printer Print error = %v, want one mentioning New", err)
	}
}
