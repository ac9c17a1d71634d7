package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// progress draws an operation's progress reports as one bar per phase
// (prepare, apply, restore), done of total boxes, on the command's standard
// error. Standard output keeps only the result, so that scripts piping it
// see no bar.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	phase string
	total int32
}

// newProgress returns a progress for cmd, or nil — which draws nothing —
// when standard error is not a terminal and force is false: a bar of
// carriage returns in a CI log or a file is noise.
func newProgress(cmd *cobra.Command, force bool) *progress {
	w := cmd.ErrOrStderr()
	if !force {
		f, ok := w.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil
		}
	}
	return &progress{w: w}
}

// update draws one state of the operation.
func (p *progress) update(op *nbpb.Operation) {
	if p == nil || op.GetPhase() == "" || op.GetTotal() <= 0 {
		return
	}
	if op.GetPhase() != p.phase {
		p.end()
		p.phase, p.total = op.GetPhase(), op.GetTotal()
		p.bar = progressbar.NewOptions(int(p.total),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("%-8s", p.phase)),
			progressbar.OptionSetItsString("boxes"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	if op.GetTotal() != p.total {
		p.total = op.GetTotal()
		p.bar.ChangeMax(int(p.total))
	}
	_ = p.bar.Set(int(op.GetDone()))
}

// end closes the current phase's bar on its own line.
func (p *progress) end() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Exit()
	fmt.Fprintln(p.w)
	p.bar = nil
}

// bar is a progress bar of a known amount of work on a command's standard
// error. A nil *bar draws nothing, so callers need not check.
type bar struct{ pb *progressbar.ProgressBar }

// newBar returns a bar of max units, described by desc, or nil when
// standard error is not a terminal and force is false (as newProgress).
// bytes counts the units as bytes (with rates); otherwise they are unit.
func newBar(cmd *cobra.Command, force bool, max int64, desc, unit string, bytes bool) *bar {
	if newProgress(cmd, force) == nil || max <= 0 {
		return nil
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(cmd.ErrOrStderr()),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionSetItsString(unit), progressbar.OptionSetPredictTime(false))
	}
	return &bar{pb: progressbar.NewOptions64(max, opts...)}
}

// set draws n units done.
func (b *bar) set(n int64) {
	if b != nil {
		_ = b.pb.Set64(n)
	}
}

// add draws n more units done.
func (b *bar) add(n int64) {
	if b != nil {
		_ = b.pb.Add64(n)
	}
}
