package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// endpointView is one end of a link.
type endpointView struct {
	Interface string `json:"interface"`
	// Device is the box's module ID in decimal, as link discovery names it.
	Device string `json:"device"`
	Port   uint32 `json:"port"`
}

// linkView is one discovered link.
type linkView struct {
	A endpointView `json:"a"`
	B endpointView `json:"b"`
}

// linkList is the result of "link list".
type linkList []linkView

// TableHeaders implements output.Tabular.
func (linkList) TableHeaders() []string {
	return []string{"A INTERFACE", "B INTERFACE", "A DEVICE:PORT", "B DEVICE:PORT"}
}

// TableRows implements output.Tabular.
func (l linkList) TableRows() [][]string {
	rows := make([][]string, 0, len(l))
	for _, k := range l {
		rows = append(rows, []string{orDash(k.A.Interface), orDash(k.B.Interface),
			fmt.Sprintf("%s:%d", k.A.Device, k.A.Port), fmt.Sprintf("%s:%d", k.B.Device, k.B.Port)})
	}
	return rows
}

func newEndpointView(e *nbpb.Endpoint) endpointView {
	return endpointView{Interface: e.GetInterface(), Device: e.GetDevice(), Port: e.GetPort()}
}

// newLinkCmd is "fabricctl link": the links between the chassis's boxes.
func newLinkCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "link",
		Aliases: []string{"links"},
		Short:   "Show the links between the boxes of the chassis, as discovered",
		Long: `Show the links between the boxes of the chassis that fabricd's link
discovery currently knows, each end as its chassis-wide interface name and as
module:port.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the discovered links",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := unary(cmd, opts, nbpb.ChassisClient.ListLinks, &nbpb.ListLinksRequest{})
			if err != nil {
				return err
			}
			l := linkList{}
			for _, k := range resp.GetLinks() {
				l = append(l, linkView{A: newEndpointView(k.GetA()), B: newEndpointView(k.GetB())})
			}
			return opts.print(cmd, l)
		},
	})
	return cmd
}
