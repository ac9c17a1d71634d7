package main

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// clockView is one box's clock estimate.
type clockView struct {
	Box          string     `json:"box"`
	Module       uint32     `json:"module"`
	OffsetNS     int64      `json:"offset_ns"`
	ErrorBoundNS int64      `json:"error_bound_ns"`
	DriftPPM     float64    `json:"drift_ppm"`
	Samples      int32      `json:"samples"`
	Updated      *time.Time `json:"updated,omitempty"`
	Alarm        bool       `json:"alarm"`
	Error        string     `json:"error,omitempty"`
}

// timeView is the result of "fabricctl time".
type timeView struct {
	Now         *time.Time  `json:"now,omitempty"`
	NTPServer   string      `json:"ntp_server"`
	ThresholdNS int64       `json:"threshold_ns,omitempty"`
	Boxes       []clockView `json:"boxes"`
}

// TableHeaders implements output.Tabular.
func (timeView) TableHeaders() []string {
	return []string{"MODULE", "BOX", "OFFSET", "ERROR BOUND", "DRIFT PPM", "SAMPLES", "ALARM", "NTP SERVER", "THRESHOLD", "ERROR"}
}

// TableRows implements output.Tabular: one row per box; the chassis-wide
// NTP server and alarm threshold are repeated on each row so that a row
// read alone says what its alarm is measured against.
func (v timeView) TableRows() [][]string {
	rows := make([][]string, 0, len(v.Boxes))
	thr := "-" // not reported by the server
	if v.ThresholdNS > 0 {
		thr = time.Duration(v.ThresholdNS).String()
	}
	for _, b := range v.Boxes {
		off, bound := "-", "-"
		if b.Samples > 0 {
			off, bound = time.Duration(b.OffsetNS).String(), "±"+time.Duration(b.ErrorBoundNS).String()
		}
		alarm := "ok"
		if b.Alarm {
			alarm = "ALARM"
		}
		rows = append(rows, []string{moduleCell(b.Module), b.Box, off, bound,
			strconv.FormatFloat(b.DriftPPM, 'f', 3, 64), countCell(b.Samples), alarm, orDash(v.NTPServer), thr, orDash(b.Error)})
	}
	if len(rows) == 0 {
		rows = append(rows, []string{"-", "-", "-", "-", "-", "-", "-", orDash(v.NTPServer), thr, "no box followed"})
	}
	return rows
}

func newTimeCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "time",
		Short: "Show the chassis time base and each box's clock offset, drift and alarm",
		Long: `Show the chassis's one time base: the SNTP server fabricd serves and every
box's NTP is configured with, the alarm threshold, and for each box the
estimated offset of its clock from the chassis clock (box minus chassis),
within an error bound, its drift in parts per million, how many samples the
estimate rests on and whether the box is past the threshold.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := unary(cmd, opts, nbpb.ChassisClient.Time, &nbpb.TimeRequest{})
			if err != nil {
				return fmt.Errorf("time: %w", err)
			}
			v := timeView{Now: timeOf(resp.GetNow()), NTPServer: resp.GetNtpServer(),
				ThresholdNS: int64(resp.GetThreshold().AsDuration()), Boxes: []clockView{}}
			for _, b := range resp.GetBoxes() {
				v.Boxes = append(v.Boxes, clockView{Box: b.GetBox(), Module: b.GetModule(),
					OffsetNS: int64(b.GetOffset().AsDuration()), ErrorBoundNS: int64(b.GetErrorBound().AsDuration()),
					DriftPPM: b.GetDriftPpm(), Samples: b.GetSamples(), Updated: timeOf(b.GetUpdated()),
					Alarm: b.GetAlarm(), Error: b.GetError()})
			}
			// By module, as every other chassis listing.
			sort.SliceStable(v.Boxes, func(i, j int) bool { return v.Boxes[i].Module < v.Boxes[j].Module })
			return opts.print(cmd, v)
		},
	}
	return cmd
}
