package state

import (
	"fmt"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// opError is the outcome of one failed update or read request: a canonical
// code and a message. It becomes one p4.v1.Error in the batch status.
type opError struct {
	code codes.Code
	msg  string
}

func (e *opError) Error() string { return e.code.String() + ": " + e.msg }

func errf(code codes.Code, format string, args ...any) *opError {
	return &opError{code: code, msg: strings.ToValidUTF8(fmt.Sprintf(format, args...), "?")}
}

// toOpError converts an error from the server's role check (normally a
// status error) into an opError; anything that is not a status error is
// UNKNOWN.
func toOpError(err error) *opError {
	if oe, ok := err.(*opError); ok {
		return oe
	}
	st := status.Convert(err)
	code := st.Code()
	if code == codes.OK {
		code = codes.Unknown
	}
	return &opError{code: code, msg: strings.ToValidUTF8(st.Message(), "?")}
}

var errorTypeURL = "type.googleapis.com/" + string((&p4v1.Error{}).ProtoReflect().Descriptor().FullName())

// okDetail is the marshalled p4.v1.Error with code OK that stands for every
// successful update of a failed batch (spec "Error Reporting Messages").
var okDetail = func() []byte {
	b, _ := proto.Marshal(&p4v1.Error{CanonicalCode: int32(codes.OK)})
	return b
}()

// batchStatus builds the status of a batch in which some items failed, as
// the spec's "Write RPC" → "Error Reporting" and "Read RPC" → "Batch
// Processing" say: code UNKNOWN and one p4.v1.Error per item in request
// order, OK for the items that succeeded. errs has one slot per item, nil
// for success.
func batchStatus(what string, errs []*opError) error {
	details := make([]*anypb.Any, len(errs))
	failed, first := 0, -1
	for i, e := range errs {
		if e == nil {
			details[i] = &anypb.Any{TypeUrl: errorTypeURL, Value: okDetail}
			continue
		}
		failed++
		if first < 0 {
			first = i
		}
		b, err := proto.Marshal(&p4v1.Error{CanonicalCode: int32(e.code), Message: e.msg})
		if err != nil { // cannot happen for a valid UTF-8 message; keep the code
			b, _ = proto.Marshal(&p4v1.Error{CanonicalCode: int32(e.code)})
		}
		details[i] = &anypb.Any{TypeUrl: errorTypeURL, Value: b}
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s failure: %d of %d failed", what, failed, len(errs))
	if first >= 0 {
		fmt.Fprintf(&msg, "; first: #%d: %s", first, errs[first].Error())
	}
	return status.ErrorProto(&spb.Status{Code: int32(codes.Unknown), Message: strings.ToValidUTF8(msg.String(), "?"), Details: details})
}

// errStatus turns an opError into a status error, its message prefixed.
func errStatus(oe *opError, format string, args ...any) error {
	return status.Error(oe.code, fmt.Sprintf(format, args...)+oe.msg)
}
