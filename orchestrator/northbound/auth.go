package northbound

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/orchestrator/northbound/nbpb"
)

// Tokens are the bearer tokens the server accepts: an Admin token may call
// every RPC, a ReadOnly token only those that change nothing.
type Tokens struct {
	Admin    []string
	ReadOnly []string
}

// access is what a token may do, and what a method needs.
type access uint8

const (
	accessNone access = iota
	accessRead
	accessAdmin
)

// methods classifies every RPC of the Chassis service by full method name.
// A method missing here (another service on the same grpc.Server, a method
// added to the proto and not here) is denied: fail closed.
var methods = map[string]access{
	nbpb.Chassis_ListBoxes_FullMethodName:       accessRead,
	nbpb.Chassis_RegisterBox_FullMethodName:     accessAdmin,
	nbpb.Chassis_DecommissionBox_FullMethodName: accessAdmin,
	nbpb.Chassis_ListLinks_FullMethodName:       accessRead,
	nbpb.Chassis_Commit_FullMethodName:          accessAdmin,
	nbpb.Chassis_Rollback_FullMethodName:        accessAdmin,
	nbpb.Chassis_GetOperation_FullMethodName:    accessRead,
	nbpb.Chassis_WatchOperation_FullMethodName:  accessRead,
	nbpb.Chassis_ListOperations_FullMethodName:  accessRead,
	nbpb.Chassis_GetConfig_FullMethodName:       accessRead,
	nbpb.Chassis_History_FullMethodName:         accessRead,
	nbpb.Chassis_Diff_FullMethodName:            accessRead,
	nbpb.Chassis_Reconcile_FullMethodName:       accessAdmin,
	nbpb.Chassis_Time_FullMethodName:            accessRead,
	nbpb.Chassis_Events_FullMethodName:          accessRead,
	nbpb.Chassis_Log_FullMethodName:             accessRead,
	// Backup is admin: the snapshot holds everything the store holds.
	nbpb.Chassis_Backup_FullMethodName: accessAdmin,
}

// AdminMethod reports whether the RPC of full method name needs an admin
// token; ok is false for a method the server does not know (denied).
func AdminMethod(fullMethod string) (admin, ok bool) {
	a, ok := methods[fullMethod]
	return a == accessAdmin, ok
}

// keyring holds the hashes of the tokens: comparing fixed-size hashes in
// constant time leaks neither a token's bytes nor its length.
type keyring struct {
	admin, read [][sha256.Size]byte
}

func newKeyring(t Tokens) (keyring, int) {
	var k keyring
	n := 0
	for _, s := range t.Admin {
		if s = strings.TrimSpace(s); s != "" {
			k.admin = append(k.admin, sha256.Sum256([]byte(s)))
			n++
		}
	}
	for _, s := range t.ReadOnly {
		if s = strings.TrimSpace(s); s != "" {
			k.read = append(k.read, sha256.Sum256([]byte(s)))
			n++
		}
	}
	return k, n
}

// grant returns what token may do. Every configured token is compared, so
// the time taken does not say which one matched.
func (k keyring) grant(token string) access {
	h := sha256.Sum256([]byte(token))
	admin, read := 0, 0
	for i := range k.admin {
		admin |= subtle.ConstantTimeCompare(h[:], k.admin[i][:])
	}
	for i := range k.read {
		read |= subtle.ConstantTimeCompare(h[:], k.read[i][:])
	}
	switch {
	case admin == 1:
		return accessAdmin
	case read == 1:
		return accessRead
	}
	return accessNone
}

// bearer extracts the token of "authorization: Bearer <token>" ("bearer"
// in any case).
func bearer(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			if tok = strings.TrimSpace(tok); tok != "" {
				return tok, true
			}
		}
	}
	return "", false
}

// authorizedKey marks a context the interceptors let through; the handlers
// check it, so that a grpc.Server built without ServerOptions fails closed
// instead of serving without authentication.
type authorizedKey struct{}

// authorize decides a call of fullMethod.
func (s *Server) authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	need, known := methods[fullMethod]
	if s.noAuth {
		if !known {
			return nil, status.Errorf(codes.PermissionDenied, "method %s is not served here", fullMethod)
		}
		return context.WithValue(ctx, authorizedKey{}, true), nil
	}
	tok, ok := bearer(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, `missing "authorization: Bearer <token>" metadata`)
	}
	got := s.keys.grant(tok)
	switch {
	case got == accessNone:
		return nil, status.Error(codes.Unauthenticated, "unknown token")
	case !known:
		return nil, status.Errorf(codes.PermissionDenied, "method %s is not served here", fullMethod)
	case got < need:
		return nil, status.Errorf(codes.PermissionDenied, "method %s needs an admin token", fullMethod)
	}
	return context.WithValue(ctx, authorizedKey{}, true), nil
}

// checkAuthorized is the handlers' guard: it fails unless an interceptor
// of this server let the call through.
func checkAuthorized(ctx context.Context) error {
	if ok, _ := ctx.Value(authorizedKey{}).(bool); !ok {
		return status.Error(codes.Unauthenticated, "server built without northbound.Server.ServerOptions: calls are refused")
	}
	return nil
}

// UnaryInterceptor authenticates and authorizes unary calls; ServerOptions
// installs it.
func (s *Server) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// StreamInterceptor authenticates and authorizes streaming calls;
// ServerOptions installs it.
func (s *Server) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &authorizedStream{ServerStream: ss, ctx: ctx})
}

// authorizedStream carries the authorized context to the handler.
type authorizedStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the context the interceptor authorized.
func (a *authorizedStream) Context() context.Context { return a.ctx }

// ServerOptions returns the grpc.ServerOptions that authenticate every call
// (UnaryInterceptor and StreamInterceptor, chained after any interceptors
// given before them). Build the grpc.Server with them: without them every
// call is refused.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.UnaryInterceptor),
		grpc.ChainStreamInterceptor(s.StreamInterceptor),
	}
}
