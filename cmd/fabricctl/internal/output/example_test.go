package output_test

import (
	"fmt"
	"os"
	"strconv"

	"github.com/p4fabric/fabric/cmd/fabricctl/internal/output"
)

type port struct {
	Port uint32 `json:"port"`
	Peer string `json:"peer,omitempty"`
}

func ExampleList() {
	ports := []port{{Port: 1, Peer: "spine1:1"}, {Port: 2, Peer: "spine2:1"}}
	headers := []string{"PORT", "PEER"}
	row := func(p port) []string { return []string{strconv.Itoa(int(p.Port)), p.Peer} }

	for _, f := range output.Formats() {
		p, err := output.New(f, os.Stdout)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("--- %s\n", f)
		if err := output.List(p, ports, headers, row); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// --- table
	// PORT   PEER
	// 1      spine1:1
	// 2      spine2:1
	// --- json
	// [
	//   {
	//     "port": 1,
	//     "peer": "spine1:1"
	//   },
	//   {
	//     "port": 2,
	//     "peer": "spine2:1"
	//   }
	// ]
	// --- yaml
	// - peer: spine1:1
	//   port: 1
	// - peer: spine2:1
	//   port: 2
}
