package northbound

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator"
	"github.com/p4fabric/fabric/orchestrator/events"
	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/inventory"
	"github.com/p4fabric/fabric/orchestrator/logbook"
	"github.com/p4fabric/fabric/orchestrator/store"
	"github.com/p4fabric/fabric/orchestrator/timesync"
	"github.com/p4fabric/fabric/orchestrator/txn"
)

// Errors NewServer and Dial return; callers branch on them with errors.Is.
var (
	// ErrInvalid: an option or argument no server or client accepts.
	ErrInvalid = errors.New("northbound: invalid argument")
	// ErrNoAuth: the server was given no tokens and not told to run
	// without authentication (WithoutAuth). A server is never silently
	// open.
	ErrNoAuth = errors.New("northbound: no tokens configured and WithoutAuth not given")
	// ErrInsecureToken: a client was asked to send a token over plaintext
	// without WithTokenOverPlaintext.
	ErrInsecureToken = errors.New("northbound: token over plaintext refused")
)

// codeOf is the one table from library errors to gRPC status codes, so that
// every RPC answers the same failure with the same code. The order matters
// where an error wraps several sentinels: the most specific comes first.
func codeOf(err error) codes.Code {
	switch {
	case err == nil:
		return codes.OK
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, orchestrator.ErrClosed), errors.Is(err, events.ErrClosed),
		errors.Is(err, logbook.ErrClosed), errors.Is(err, store.ErrClosed), errors.Is(err, timesync.ErrClosed):
		return codes.Unavailable
	case errors.Is(err, driver.ErrUnknownDriver), errors.Is(err, driver.ErrTransportSecurity):
		return codes.InvalidArgument
	case errors.Is(err, driver.ErrUnsupported):
		return codes.FailedPrecondition
	case errors.Is(err, orchestrator.ErrNotConnected), errors.Is(err, driver.ErrClosed):
		// Retryable once the box is back: Unavailable, not
		// FailedPrecondition.
		return codes.Unavailable
	case errors.Is(err, inventory.ErrUnknownBox), errors.Is(err, inventory.ErrUnknownModule),
		errors.Is(err, store.ErrNotFound), errors.Is(err, txn.ErrNoVersion),
		errors.Is(err, orchestrator.ErrNoConfig), errors.Is(err, timesync.ErrUnknownBox):
		return codes.NotFound
	case errors.Is(err, store.ErrPermission):
		// The store refused the orchestrator's own credentials (an
		// etcd backup needs the root role): the caller's request is
		// not one this server may make.
		return codes.PermissionDenied
	case errors.Is(err, inventory.ErrModuleTaken):
		return codes.AlreadyExists
	case errors.Is(err, inventory.ErrModuleMismatch), errors.Is(err, inventory.ErrNoSerial),
		errors.Is(err, timesync.ErrNotStarted):
		return codes.FailedPrecondition
	case errors.Is(err, inventory.ErrNoFreeModule):
		return codes.ResourceExhausted
	case errors.Is(err, txn.ErrConflict):
		// Another transaction is pending: a concurrency conflict the
		// caller may retry (gRPC's ABORTED).
		return codes.Aborted
	case errors.Is(err, orchestrator.ErrInvalid), errors.Is(err, goal.ErrInvalid),
		errors.Is(err, inventory.ErrInvalid), errors.Is(err, inventory.ErrInvalidName),
		errors.Is(err, inventory.ErrUnknownPort), errors.Is(err, events.ErrInvalid),
		errors.Is(err, logbook.ErrInvalid), errors.Is(err, store.ErrInvalid):
		return codes.InvalidArgument
	default:
		return codes.Internal
	}
}

// toStatus turns a library error into a gRPC status error whose message
// names what the call was about (what), such as `box "SN1"`.
func toStatus(what string, err error) error {
	if err == nil {
		return nil
	}
	if _, bare := err.(interface{ GRPCStatus() *status.Status }); bare {
		// Already a status of ours (a stream's Send failing). A box's
		// gRPC error wrapped by the library is not bare, and is mapped:
		// the box's code must not pass for ours.
		return err
	}
	return status.Error(codeOf(err), fmt.Sprintf("%s: %v", what, err))
}
