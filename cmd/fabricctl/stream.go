package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
)

// liveColumn is one column of a live table: its header and the width its
// cells are padded to (at least the header's). A wider cell pushes that
// row's later cells right rather than being cut: nothing of an event is
// hidden.
type liveColumn struct {
	header string
	width  int
}

// liveTable prints records one at a time as they arrive, which
// output.Printer cannot do (it sizes columns from all rows at once): table
// rows under one header line with fixed column widths, one compact JSON
// object per line (JSON Lines, for jq and log shippers), or one YAML
// document each.
type liveTable[T any] struct {
	format  output.Format
	w       io.Writer
	columns []liveColumn
	row     func(T) []string
	header  bool
}

// print writes one record.
func (p *liveTable[T]) print(v T) error {
	var err error
	switch p.format {
	case output.FormatJSON:
		var b []byte
		if b, err = json.Marshal(v); err == nil {
			_, err = fmt.Fprintf(p.w, "%s\n", b)
		}
	case output.FormatYAML:
		var b []byte
		if b, err = yaml.Marshal(v); err == nil {
			_, err = fmt.Fprintf(p.w, "---\n%s", b)
		}
	default:
		if !p.header {
			p.header = true
			hs := make([]string, len(p.columns))
			for i, c := range p.columns {
				hs[i] = c.header
			}
			if err = p.line(hs); err != nil {
				break
			}
		}
		err = p.line(p.row(v))
	}
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// line writes cells padded to the column widths, separated by three
// blanks as output tables are, without trailing blanks.
func (p *liveTable[T]) line(cells []string) error {
	var b strings.Builder
	for i, c := range p.columns {
		cell := "-"
		if i < len(cells) && cells[i] != "" {
			cell = cells[i]
		}
		b.WriteString(cell)
		if i < len(p.columns)-1 {
			b.WriteString(strings.Repeat(" ", max(max(c.width, len(c.header))-len(cell), 0)+3))
		}
	}
	_, err := fmt.Fprintln(p.w, strings.TrimRight(b.String(), " "))
	return err
}

// streamEnded sorts out how a server stream ended: the end of the stream
// and the user's interrupt (the command's context cancelled, which cancels
// the stream with it) are a normal end; anything else is an error.
func streamEnded(ctx context.Context, err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled ||
		errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded) {
		return nil
	}
	return rpcError(err)
}
