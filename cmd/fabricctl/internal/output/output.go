// Package output prints the results of fabricctl commands in the format chosen
// with --output: an aligned table for people, or indented JSON or YAML for
// scripts.
//
// A command produces one Go value and hands it to a Printer. In JSON and YAML
// modes the value itself is marshalled (YAML through sigs.k8s.io/yaml, so the
// same json struct tags name the fields in both). In table mode the value is
// shown as rows and columns, which the command describes in one of three ways:
//
//   - the value implements Tabular, and Print does the rest;
//   - Value gets the headers and a function returning the rows;
//   - List, for a slice, gets the headers and a function turning one element
//     into one row.
//
// Tables have no borders: upper-case headers, left-aligned columns separated
// by three spaces, no trailing blanks — easy to read and to cut or awk.
//
// Format implements pflag.Value, so an invalid --output value is rejected when
// the flags are parsed, before any command runs.
package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"sigs.k8s.io/yaml"
)

// Format is an output format. Its zero value is not a valid format; use
// FormatTable as the default.
type Format string

// The supported output formats.
const (
	// FormatTable prints an aligned, borderless table.
	FormatTable Format = "table"
	// FormatJSON prints indented JSON.
	FormatJSON Format = "json"
	// FormatYAML prints YAML.
	FormatYAML Format = "yaml"
)

// Formats returns the supported formats, the default first.
func Formats() []Format { return []Format{FormatTable, FormatJSON, FormatYAML} }

// FormatNames returns the names of the supported formats, the default first,
// for flag help and shell completion.
func FormatNames() []string {
	names := make([]string, 0, 3)
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return names
}

// ErrUnsupportedFormat is wrapped by the errors returned for a format that is
// not one of Formats.
var ErrUnsupportedFormat = errors.New("unsupported output format")

// ParseFormat returns the format named s, or an error wrapping
// ErrUnsupportedFormat.
func ParseFormat(s string) (Format, error) {
	f := Format(s)
	if err := f.validate(); err != nil {
		return "", err
	}
	return f, nil
}

func (f Format) validate() error {
	for _, ok := range Formats() {
		if f == ok {
			return nil
		}
	}
	return fmt.Errorf("%w %q (want one of %s)", ErrUnsupportedFormat, string(f), strings.Join(FormatNames(), ", "))
}

// String returns the name of the format.
func (f Format) String() string { return string(f) }

// Set parses s into f, implementing pflag.Value. On error f is unchanged.
func (f *Format) Set(s string) error {
	parsed, err := ParseFormat(s)
	if err != nil {
		return err
	}
	*f = parsed
	return nil
}

// Type returns the name of the flag type shown in help, implementing
// pflag.Value.
func (f *Format) Type() string { return "format" }

// Tabular is implemented by values that know how to show themselves as a
// table. Print uses it in table mode.
type Tabular interface {
	// TableHeaders returns the column headers.
	TableHeaders() []string
	// TableRows returns the rows, each with one cell per header.
	TableRows() [][]string
}

// Printer writes values to an io.Writer in one Format. It is not safe for
// concurrent use (neither, in general, is its writer).
type Printer struct {
	format Format
	w      io.Writer
}

// New returns a Printer writing to w in format f.
func New(f Format, w io.Writer) (*Printer, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("output: format: %w", err)
	}
	if w == nil {
		return nil, errors.New("output: writer is nil")
	}
	return &Printer{format: f, w: w}, nil
}

// Format returns the printer's format.
func (p *Printer) Format() Format { return p.format }

// Print writes v. In JSON and YAML modes v is marshalled. In table mode a v
// implementing Tabular is printed as its table; any other v is printed as YAML,
// which reads well for nested values that have no natural table form.
func (p *Printer) Print(v any) error {
	if p.format == FormatTable {
		if t, ok := v.(Tabular); ok {
			return p.Table(t.TableHeaders(), t.TableRows())
		}
		return p.yaml(v)
	}
	return p.marshal(v)
}

// Value writes v: in table mode as the table made of headers and rows(), in
// JSON and YAML modes by marshalling v. rows is called only in table mode; a
// nil rows prints the headers alone.
func (p *Printer) Value(v any, headers []string, rows func() [][]string) error {
	if p.format != FormatTable {
		return p.marshal(v)
	}
	var r [][]string
	if rows != nil {
		r = rows()
	}
	return p.Table(headers, r)
}

// List writes items: in table mode one row per item, made by row; in JSON and
// YAML modes the slice is marshalled, an empty or nil slice as [] so that
// scripts always get a list.
func List[T any](p *Printer, items []T, headers []string, row func(T) []string) error {
	if items == nil {
		items = []T{}
	}
	return p.Value(items, headers, func() [][]string {
		rows := make([][]string, 0, len(items))
		for _, it := range items {
			rows = append(rows, row(it))
		}
		return rows
	})
}

// Table writes a table with headers and rows. Headers are shown upper-cased;
// short rows are padded with empty cells. In JSON and YAML modes the table
// becomes a list of objects, one per row, keyed by the lower-cased headers with
// blanks replaced by underscores ("DEVICE ID" → "device_id"); cells beyond the
// headers are dropped.
func (p *Printer) Table(headers []string, rows [][]string) error {
	if p.format != FormatTable {
		keys := make([]string, len(headers))
		for i, h := range headers {
			keys[i] = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(h)), " ", "_")
		}
		objs := make([]map[string]string, 0, len(rows))
		for _, row := range rows {
			obj := make(map[string]string, len(keys))
			for i, k := range keys {
				if i < len(row) {
					obj[k] = row[i]
				} else {
					obj[k] = ""
				}
			}
			objs = append(objs, obj)
		}
		return p.marshal(objs)
	}

	var buf bytes.Buffer
	table := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.SeparatorsNone,
				Lines:      tw.LinesNone,
			},
		})),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoFormat(tw.Off),
		tablewriter.WithTrimSpace(tw.Off),
	)
	upper := make([]string, len(headers))
	for i, h := range headers {
		upper[i] = strings.ToUpper(h)
	}
	table.Header(upper)
	for i, row := range rows {
		if len(row) < len(headers) {
			row = append(append(make([]string, 0, len(headers)), row...), make([]string, len(headers)-len(row))...)
		}
		if err := table.Append(row); err != nil {
			return fmt.Errorf("output: table row %d: %w", i, err)
		}
	}
	if err := table.Render(); err != nil {
		return fmt.Errorf("output: render table: %w", err)
	}
	return p.write(trimLines(buf.Bytes()))
}

// trimLines removes the blanks the table renderer leaves at the end of lines.
func trimLines(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	var out bytes.Buffer
	out.Grow(len(b))
	for i, line := range lines {
		line = bytes.TrimRight(line, " ")
		if i == len(lines)-1 && len(line) == 0 {
			break // the final newline
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func (p *Printer) marshal(v any) error {
	if p.format == FormatYAML {
		return p.yaml(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "leaf1:1 <-> spine1:1" readable
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("output: marshal %T to JSON: %w", v, err)
	}
	return p.write(buf.Bytes())
}

func (p *Printer) yaml(v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("output: marshal %T to YAML: %w", v, err)
	}
	return p.write(b)
}

func (p *Printer) write(b []byte) error {
	if p.w == nil {
		return errors.New("output: Printer not created by New")
	}
	if _, err := p.w.Write(b); err != nil {
		return fmt.Errorf("output: write: %w", err)
	}
	return nil
}
