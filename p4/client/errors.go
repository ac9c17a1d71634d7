package client

import (
	"errors"
	"fmt"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrNotPrimary reports that the switch refused a Write or
	// SetForwardingPipelineConfig because this client is not the primary for
	// its (device, role): the RPC failed with PERMISSION_DENIED as a whole
	// (spec "Write RPC", second check). A PERMISSION_DENIED carried by one
	// update's p4.v1.Error means something else — the update is outside the
	// client's role — and does not match ErrNotPrimary.
	ErrNotPrimary = errors.New("p4runtime: not the primary client")

	// ErrClosed is returned by calls on a closed Client.
	ErrClosed = errors.New("p4runtime: client closed")

	// ErrNoSchema is returned by calls that resolve names when the client has
	// no P4Info: give one with WithSchema, or set or get a pipeline first.
	ErrNoSchema = errors.New("p4runtime: no P4Info schema")

	// ErrNoPipeline is returned by GetPipeline when the switch has no
	// forwarding pipeline config (spec "GetForwardingPipelineConfig RPC": the config is unset).
	ErrNoPipeline = errors.New("p4runtime: switch has no forwarding pipeline config")

	// ErrTooLarge is returned by Write when an atomic batch does not fit in
	// one message, and carried by the UpdateError of an update larger than the
	// maximum message size.
	ErrTooLarge = errors.New("p4runtime: message larger than the maximum message size")

	// ErrStreamDown is returned by stream calls (PacketOut, AckDigest) when the
	// stream channel broke before the message was handed to the transport.
	ErrStreamDown = errors.New("p4runtime: stream channel down")

	// ErrTransportSecurity is returned by Dial when neither WithTLS nor
	// WithInsecure was given, or both were: Dial never falls back to plaintext
	// silently.
	ErrTransportSecurity = errors.New("p4runtime: choose exactly one of WithTLS or WithInsecure")
)

// UpdateError is the outcome of one failed update of a Write.
type UpdateError struct {
	// Index is the position of the update in the slice given to Write,
	// whatever batch it travelled in.
	Index int
	// Update is the update itself.
	Update *p4v1.Update
	// Code is the canonical code: the p4.v1.Error's canonical_code when the
	// switch reported one for this update, otherwise the code of the RPC
	// that carried it.
	Code codes.Code
	// Message is the developer-facing message.
	Message string
	// Space and SpaceCode are the vendor's error space and code, when given.
	Space     string
	SpaceCode int32
	// Details is the p4.v1.Error's vendor details, when given.
	Details *anypb.Any
	// NotSent is set for an update that was never sent: an earlier batch
	// failed as a whole, or the context ended first. The switch did not see
	// it.
	NotSent bool
}

// Error describes the failed update.
func (e *UpdateError) Error() string {
	if e.NotSent {
		return fmt.Sprintf("update %d not sent: %s", e.Index, e.Message)
	}
	s := fmt.Sprintf("update %d: %s: %s", e.Index, e.Code, e.Message)
	if e.Space != "" || e.SpaceCode != 0 {
		s += fmt.Sprintf(" (%s code %d)", e.Space, e.SpaceCode)
	}
	return s
}

// WriteError reports a Write in which some updates failed. Updates holds one
// entry per failed (or unsent) update, ordered by Index; updates that are not
// listed were applied.
type WriteError struct {
	Updates []*UpdateError
	// Total is the number of updates given to Write.
	Total int
	// Err is the first error that failed an RPC as a whole (for example a
	// PERMISSION_DENIED status, UNAVAILABLE or a context error), or nil when
	// every failure was reported per update.
	Err error

	notPrimary bool
}

// Error summarises the failed updates, listing the first five.
func (e *WriteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "p4runtime write: %d of %d updates failed", len(e.Updates), e.Total)
	if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	for i, u := range e.Updates {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Updates)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(u.Error())
	}
	return b.String()
}

// Unwrap returns the RPC-wide error, if any, so that errors.Is finds context
// errors and gRPC statuses.
func (e *WriteError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotPrimary) true when a batch was refused for
// lack of mastership.
func (e *WriteError) Is(target error) bool { return target == ErrNotPrimary && e.notPrimary }

// EntityError is the outcome of one failed request of a Read batch.
type EntityError struct {
	Index     int // position in the entities given to Read
	Entity    *p4v1.Entity
	Code      codes.Code
	Message   string
	Space     string
	SpaceCode int32
}

// Error describes the failed read request.
func (e *EntityError) Error() string {
	return fmt.Sprintf("read request %d: %s: %s", e.Index, e.Code, e.Message)
}

// ReadError reports a Read whose status carried one p4.v1.Error per request
// (spec "Batch Processing"): Entities lists the requests that failed.
// The entities of the other requests were delivered before it.
type ReadError struct {
	Entities []*EntityError
	Err      error // the RPC status
}

// Error summarises the failed requests, listing the first five.
func (e *ReadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "p4runtime read: %d requests failed", len(e.Entities))
	for i, u := range e.Entities {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Entities)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(u.Error())
	}
	return b.String()
}

// Unwrap returns the RPC status error.
func (e *ReadError) Unwrap() error { return e.Err }

// p4Errors decodes the p4.v1.Error details of a gRPC status error. ok is false
// when err is not a status, or when any detail is not a p4.v1.Error: then the
// details cannot be matched by position.
func p4Errors(err error) (st *status.Status, errs []*p4v1.Error, ok bool) {
	st, isStatus := status.FromError(err)
	if !isStatus {
		return st, nil, false
	}
	details := st.Proto().GetDetails()
	if len(details) == 0 {
		return st, nil, false
	}
	errs = make([]*p4v1.Error, 0, len(details))
	for _, d := range details {
		e := &p4v1.Error{}
		if d == nil || !d.MessageIs(e) {
			return st, nil, false
		}
		if proto.Unmarshal(d.GetValue(), e) != nil {
			return st, nil, false
		}
		errs = append(errs, e)
	}
	return st, errs, true
}

// rpcNotPrimary reports whether err refuses a whole RPC for lack of
// mastership.
func rpcNotPrimary(err error) bool {
	return status.Code(err) == codes.PermissionDenied
}
