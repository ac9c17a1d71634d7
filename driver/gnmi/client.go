package gnmi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// Client is a gNMI client for one target. It is safe for concurrent use.
type Client struct {
	conn *grpc.ClientConn // nil when the caller owns the connection
	raw  gpb.GNMIClient
	o    options

	closeOnce sync.Once
}

// Dial returns a client for the target at addr (host:port). The connection
// is made lazily, by the first RPC, and re-made by gRPC when it breaks; Dial
// itself does not block. Transport security must be chosen: WithTLS or
// WithInsecure.
func Dial(addr string, opts ...Option) (*Client, error) {
	o := newOptions(opts)
	var creds credentials.TransportCredentials
	switch {
	case o.tls != nil && o.insecure:
		return nil, errors.New("gnmi: dial: WithTLS and WithInsecure are exclusive")
	case o.tls != nil:
		creds = credentials.NewTLS(o.tls)
	case o.insecure:
		creds = insecure.NewCredentials()
	default:
		return nil, errors.New("gnmi: dial: choose transport security with WithTLS or WithInsecure")
	}
	dopts := append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, o.dialOpts...)
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, fmt.Errorf("gnmi: dial %s: %w", addr, err)
	}
	return &Client{conn: conn, raw: gpb.NewGNMIClient(conn), o: o}, nil
}

// New returns a client over a connection the caller made and keeps owning
// (Close does not close it). Transport options (WithTLS, WithInsecure,
// WithDialOptions) are ignored.
func New(conn grpc.ClientConnInterface, opts ...Option) *Client {
	return &Client{raw: gpb.NewGNMIClient(conn), o: newOptions(opts)}
}

func newOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Close closes the connection Dial made. It is safe to call more than once.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	var err error
	c.closeOnce.Do(func() { err = c.conn.Close() })
	if err != nil {
		return fmt.Errorf("gnmi: close: %w", err)
	}
	return nil
}

// Raw returns the generated gNMI client, for requests this package does not
// build. Its calls do not carry the credentials: wrap their context with
// Context.
func (c *Client) Raw() gpb.GNMIClient { return c.raw }

// Context returns ctx carrying the client's credentials (WithCredentials) in
// its outgoing metadata.
func (c *Client) Context(ctx context.Context) context.Context {
	if !c.o.credentials {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "username", c.o.username, "password", c.o.password)
}

func (c *Client) prefix(p string) (*gpb.Path, error) {
	var prefix *gpb.Path
	if p != "" {
		var err error
		if prefix, err = ParsePath(p); err != nil {
			return nil, fmt.Errorf("prefix: %w", err)
		}
	}
	if c.o.target != "" {
		if prefix == nil {
			prefix = &gpb.Path{}
		}
		prefix.Target = c.o.target
	}
	return prefix, nil
}

// Capabilities asks the target for its gNMI version, models and encodings.
func (c *Client) Capabilities(ctx context.Context) (*gpb.CapabilityResponse, error) {
	resp, err := c.raw.Capabilities(c.Context(ctx), &gpb.CapabilityRequest{})
	if err != nil {
		return nil, fmt.Errorf("gnmi: capabilities: %w", err)
	}
	return resp, nil
}

// GetOption changes a Get request.
type GetOption func(*gpb.GetRequest)

// GetType asks for one type of data: CONFIG, STATE or OPERATIONAL (the
// default, ALL, returns everything).
func GetType(t gpb.GetRequest_DataType) GetOption {
	return func(r *gpb.GetRequest) { r.Type = t }
}

// GetEncoding overrides the client's encoding for one Get.
func GetEncoding(e gpb.Encoding) GetOption {
	return func(r *gpb.GetRequest) { r.Encoding = e }
}

// Get retrieves a snapshot of paths (ParsePath syntax) and returns it as flat
// records. With a JSON encoding a container comes back as one record whose
// value is the decoded JSON object; with PROTO every leaf is its own record.
// Use GetNotifications for the notifications as the target sent them.
func (c *Client) Get(ctx context.Context, paths []string, opts ...GetOption) ([]Update, error) {
	ns, err := c.GetNotifications(ctx, paths, opts...)
	if err != nil {
		return nil, err
	}
	var out []Update
	var errs []error
	for _, n := range ns {
		recs, err := Flatten(n)
		out = append(out, recs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("gnmi: get: %w", err)
	}
	return out, nil
}

// GetNotifications is Get returning the target's notifications unchanged.
func (c *Client) GetNotifications(ctx context.Context, paths []string, opts ...GetOption) ([]*gpb.Notification, error) {
	req := &gpb.GetRequest{Encoding: c.o.encoding}
	var err error
	if req.Prefix, err = c.prefix(""); err != nil {
		return nil, fmt.Errorf("gnmi: get: %w", err)
	}
	for _, s := range paths {
		p, err := ParsePath(s)
		if err != nil {
			return nil, fmt.Errorf("gnmi: get: %w", err)
		}
		req.Path = append(req.Path, p)
	}
	for _, opt := range opts {
		if opt != nil {
			opt(req)
		}
	}
	resp, err := c.raw.Get(c.Context(ctx), req)
	if err != nil {
		return nil, fmt.Errorf("gnmi: get %q: %w", paths, err)
	}
	return resp.GetNotification(), nil
}

// SetOp is one operation of a Set request. Build it with SetUpdate,
// SetReplace or SetDelete.
type SetOp struct {
	op    gpb.UpdateResult_Operation
	path  string
	value any
}

// SetUpdate merges value into the tree at path (specification section
// 3.4.4). value is encoded with EncodeValue in the client's encoding, so a
// Go bool, number, string, map or struct works; a *gpb.TypedValue is sent as
// it is.
func SetUpdate(path string, value any) SetOp {
	return SetOp{op: gpb.UpdateResult_UPDATE, path: path, value: value}
}

// SetReplace replaces the subtree at path with value: what value leaves out
// returns to its default or is deleted.
func SetReplace(path string, value any) SetOp {
	return SetOp{op: gpb.UpdateResult_REPLACE, path: path, value: value}
}

// SetDelete deletes the subtree at path; wildcards are allowed.
func SetDelete(path string) SetOp { return SetOp{op: gpb.UpdateResult_DELETE, path: path} }

// String describes the operation as "update /path".
func (o SetOp) String() string {
	return fmt.Sprintf("%s %s", o.op, o.path)
}

// SetRequest builds the request Set sends for ops, in the order the
// specification applies them (section 3.4): all deletes, then replaces, then
// updates, each group in the order given.
func (c *Client) SetRequest(ops ...SetOp) (*gpb.SetRequest, error) {
	req := &gpb.SetRequest{}
	var err error
	if req.Prefix, err = c.prefix(""); err != nil {
		return nil, err
	}
	for i, op := range ops {
		p, err := ParsePath(op.path)
		if err != nil {
			return nil, fmt.Errorf("operation %d (%s): %w", i, op.op, err)
		}
		switch op.op {
		case gpb.UpdateResult_DELETE:
			req.Delete = append(req.Delete, p)
		case gpb.UpdateResult_REPLACE, gpb.UpdateResult_UPDATE:
			tv, err := EncodeValue(op.value, c.o.encoding)
			if err != nil {
				return nil, fmt.Errorf("operation %d (%s %s): %w", i, op.op, op.path, err)
			}
			u := &gpb.Update{Path: p, Val: tv}
			if op.op == gpb.UpdateResult_REPLACE {
				req.Replace = append(req.Replace, u)
			} else {
				req.Update = append(req.Update, u)
			}
		default:
			return nil, fmt.Errorf("operation %d: not built with SetUpdate, SetReplace or SetDelete", i)
		}
	}
	return req, nil
}

// Set applies ops as one transaction: the target applies all or none of
// them (specification section 3.4.3). The error of a refused request carries
// the target's gRPC status (status.Code(err)).
func (c *Client) Set(ctx context.Context, ops ...SetOp) (*gpb.SetResponse, error) {
	req, err := c.SetRequest(ops...)
	if err != nil {
		return nil, fmt.Errorf("gnmi: set: %w", err)
	}
	resp, err := c.raw.Set(c.Context(ctx), req)
	if err != nil {
		return nil, fmt.Errorf("gnmi: set %v: %w", ops, err)
	}
	return resp, nil
}
