package topology_test

import (
	"strings"
	"testing"

	"github.com/p4fabric/fabric/testbed/topology"
)

func TestCredentials(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *topology.Credentials
		wantErr string
	}{
		{name: "absent", in: "switches: [{name: a, ports: 1}]"},
		{name: "both", in: "switches: [{name: a, ports: 1, credentials: {username: admin, password: s3cret}}]",
			want: &topology.Credentials{Username: "admin", Password: "s3cret"}},
		{name: "no password", in: "switches: [{name: a, ports: 1, credentials: {username: admin}}]",
			want: &topology.Credentials{Username: "admin"}},
		{name: "no username", in: "switches: [{name: a, ports: 1, credentials: {password: x}}]",
			wantErr: `switch "a": credentials: username is empty`},
		{name: "unknown field", in: "switches: [{name: a, ports: 1, credentials: {user: admin}}]",
			wantErr: `unknown field "user"`},
		{name: "unprintable password", in: "switches: [{name: a, ports: 1, credentials: {username: a, password: \"x\\u0007\"}}]",
			wantErr: `switch "a": credentials: password: unprintable character`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := topology.Parse([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\u0007") {
					t.Fatalf("error echoes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := topo.Switches[0].Credentials
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("credentials = %+v, want %+v", got, tc.want)
			}
			// Marshal and Parse round-trip them.
			b, err := topo.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			again, err := topology.Parse(b)
			if err != nil {
				t.Fatalf("parse %s: %v", b, err)
			}
			if g := again.Switches[0].Credentials; (g == nil) != (got == nil) || (g != nil && *g != *got) {
				t.Fatalf("round trip: %+v, want %+v", g, got)
			}
		})
	}
}
