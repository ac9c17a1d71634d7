package northbound_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/orchestrator/northbound"
	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// TestAuthMatrix calls every RPC with no token, a wrong one, a read-only
// and an admin one. Requests are harmless (they fail validation, or read)
// so the matrix only checks who gets past authentication.
func TestAuthMatrix(t *testing.T) {
	e := newEnv(t, false)
	rpcs := []struct {
		method string
		admin  bool
		call   func(ctx context.Context, c *northbound.Client) error
	}{
		{"ListBoxes", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
			return err
		}},
		{"RegisterBox", true, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.RegisterBox(ctx, &nbpb.RegisterBoxRequest{}) // invalid spec
			return err
		}},
		{"DecommissionBox", true, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.DecommissionBox(ctx, &nbpb.DecommissionBoxRequest{Serial: "nope"})
			return err
		}},
		{"ListLinks", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.ListLinks(ctx, &nbpb.ListLinksRequest{})
			return err
		}},
		{"Commit", true, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.Commit(ctx, &nbpb.CommitRequest{}) // empty config
			return err
		}},
		{"Rollback", true, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.Rollback(ctx, &nbpb.RollbackRequest{Version: 5}) // no such version
			return err
		}},
		{"GetOperation", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.GetOperation(ctx, &nbpb.GetOperationRequest{Id: "op-x"})
			return err
		}},
		{"WatchOperation", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := recvErr(c.WatchOperation(ctx, &nbpb.GetOperationRequest{Id: "op-x"}))
			return err
		}},
		{"ListOperations", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.ListOperations(ctx, &nbpb.ListOperationsRequest{})
			return err
		}},
		{"GetConfig", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.GetConfig(ctx, &nbpb.GetConfigRequest{})
			return err
		}},
		{"History", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.History(ctx, &nbpb.HistoryRequest{})
			return err
		}},
		{"Diff", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.Diff(ctx, &nbpb.DiffRequest{})
			return err
		}},
		{"Reconcile", true, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.Reconcile(ctx, &nbpb.ReconcileRequest{Serial: "nope"})
			return err
		}},
		{"Time", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := c.Time(ctx, &nbpb.TimeRequest{})
			return err
		}},
		{"Events", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := recvErr(c.Events(ctx, &nbpb.EventsRequest{Kinds: []string{"bad"}}))
			return err
		}},
		{"Log", false, func(ctx context.Context, c *northbound.Client) error {
			_, err := recvErr(c.Log(ctx, &nbpb.LogRequest{Sources: []string{"bad"}}))
			return err
		}},
		{"Backup", true, func(ctx context.Context, c *northbound.Client) error {
			_, err := recvErr(c.Backup(ctx, &nbpb.BackupRequest{}))
			return err
		}},
	}
	// Every method of the service is in the matrix, and classified as the
	// matrix says.
	if n := len(nbpb.Chassis_ServiceDesc.Methods) + len(nbpb.Chassis_ServiceDesc.Streams); n != len(rpcs) {
		t.Fatalf("the service has %d methods, the matrix %d", n, len(rpcs))
	}
	for _, r := range rpcs {
		admin, ok := northbound.AdminMethod("/" + nbpb.Chassis_ServiceDesc.ServiceName + "/" + r.method)
		if !ok || admin != r.admin {
			t.Fatalf("%s: AdminMethod = %v, %v; want %v", r.method, admin, ok, r.admin)
		}
	}
	if _, ok := northbound.AdminMethod("/grpc.health.v1.Health/Check"); ok {
		t.Fatal("a method of another service is classified")
	}

	// The admin token with its last letter's case changed: tokens are
	// compared exactly.
	wrong := adminToken[:len(adminToken)-1] + strings.ToUpper(adminToken[len(adminToken)-1:])
	clients := map[string]*northbound.Client{
		"none":  e.api.Dial(t, ""),
		"wrong": e.api.Dial(t, wrong),
		"read":  e.api.Dial(t, readToken),
		"admin": e.api.Dial(t, adminToken),
	}
	for _, r := range rpcs {
		for who, c := range clients {
			t.Run(r.method+"/"+who, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := r.call(ctx, c)
				code := status.Code(err)
				switch {
				case who == "none" || who == "wrong":
					if code != codes.Unauthenticated {
						t.Fatalf("code %v (%v), want Unauthenticated", code, err)
					}
				case who == "read" && r.admin:
					if code != codes.PermissionDenied {
						t.Fatalf("code %v (%v), want PermissionDenied", code, err)
					}
				default:
					if code == codes.Unauthenticated || code == codes.PermissionDenied {
						t.Fatalf("code %v (%v): refused", code, err)
					}
				}
			})
		}
	}
}

// TestBearerScheme: the scheme is case-insensitive, the token is not.
func TestBearerScheme(t *testing.T) {
	e := newEnv(t, false)
	for _, tc := range []struct {
		header string
		want   codes.Code
	}{
		{"Bearer " + adminToken, codes.OK},
		{"bearer " + adminToken, codes.OK},
		{"BEARER  " + adminToken + " ", codes.OK},
		{"Basic " + adminToken, codes.Unauthenticated},
		{adminToken, codes.Unauthenticated},
		{"Bearer ", codes.Unauthenticated},
		{"Bearer " + adminToken + "x", codes.Unauthenticated},
	} {
		t.Run(tc.header, func(t *testing.T) {
			c := e.api.Dial(t, "")
			ctx := metadataCtx(t, tc.header)
			_, err := c.ListBoxes(ctx, &nbpb.ListBoxesRequest{})
			if got := status.Code(err); got != tc.want {
				t.Fatalf("code %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}
