package gnoi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	ospb "github.com/openconfig/gnoi/os"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4fabric/fabric/internal/backoff"
)

// Errors of the os helpers. Test for them with errors.Is.
var (
	// ErrVersionMismatch: the device validated a package whose version is
	// not the one asked for (the proto leaves this check to the client).
	ErrVersionMismatch = errors.New("gnoi: package version differs from the version asked for")
	// ErrActivationFailed: the device fell back to its previous version and
	// reports why (VerifyResponse.activation_fail_message).
	ErrActivationFailed = errors.New("gnoi: activation failed")
	// ErrProtocol: the device's answers do not follow the gNOI os protocol.
	ErrProtocol = errors.New("gnoi: protocol error")
)

// InstallError is an InstallError the device answered Install with.
type InstallError struct {
	// Type is the error's type (TOO_LARGE, PARSE_FAIL, INTEGRITY_FAIL, ...).
	Type ospb.InstallError_Type
	// Detail is the device's explanation.
	Detail string
}

// Error names the type and the detail.
func (e *InstallError) Error() string {
	if e.Detail == "" {
		return "install error " + e.Type.String()
	}
	return fmt.Sprintf("install error %s: %s", e.Type, e.Detail)
}

// ActivateError is an ActivateError the device answered Activate with.
type ActivateError struct {
	// Type is the error's type (NON_EXISTENT_VERSION, ...).
	Type ospb.ActivateError_Type
	// Detail is the device's explanation.
	Detail string
}

// Error names the type and the detail.
func (e *ActivateError) Error() string {
	if e.Detail == "" {
		return "activate error " + e.Type.String()
	}
	return fmt.Sprintf("activate error %s: %s", e.Type, e.Detail)
}

// InstallProgress reports how an Install is going.
type InstallProgress struct {
	// BytesSent counts the package bytes sent so far.
	BytesSent uint64
	// BytesReceived is what the device last reported having received
	// (TransferProgress).
	BytesReceived uint64
	// SyncPercent is the progress of a copy between supervisors the device
	// reported (SyncProgress).
	SyncPercent uint32
}

// InstallResult is the outcome of a successful Install.
type InstallResult struct {
	// Version is the version the device validated.
	Version string
	// Description is the device's description of the package.
	Description string
	// Transferred is false when the device already had the version and no
	// bytes were sent.
	Transferred bool
	// BytesSent counts the package bytes sent.
	BytesSent uint64
}

// InstallOption configures Install.
type InstallOption func(*installConfig)

type installConfig struct {
	size     uint64
	standby  bool
	progress func(InstallProgress)
}

// WithPackageSize tells the device the package's size in advance, so that
// it can refuse a package too large (TOO_LARGE) before the transfer.
func WithPackageSize(n uint64) InstallOption { return func(c *installConfig) { c.size = n } }

// WithStandbySupervisor installs on the standby supervisor of a dual
// supervisor device.
func WithStandbySupervisor() InstallOption { return func(c *installConfig) { c.standby = true } }

// WithProgress calls f at every progress report of the device and after
// every chunk sent. f runs on the goroutine that called Install.
func WithProgress(f func(InstallProgress)) InstallOption {
	return func(c *installConfig) { c.progress = f }
}

type installMsg struct {
	resp *ospb.InstallResponse
	err  error
}

// Install transfers an OS package to the device (gNOI os.Install): it asks
// for version and, if the device does not have it yet, streams image in
// chunks (WithChunkSize) and ends the transfer; the device validates the
// package. image may be nil when the device is known to have the version.
// An InstallError of the device is returned as *InstallError; a validated
// version other than the one asked for (non-empty) as ErrVersionMismatch,
// with the result filled.
func (c *Client) Install(ctx context.Context, version string, image io.Reader, opts ...InstallOption) (InstallResult, error) {
	var cfg installConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	res, err := c.install(ctx, version, image, cfg)
	if err != nil {
		return res, rpcErr("os", "Install", err)
	}
	if version != "" && res.Version != version {
		return res, rpcErr("os", "Install", fmt.Errorf("%w: asked for %q, device validated %q", ErrVersionMismatch, version, res.Version))
	}
	return res, nil
}

func (c *Client) install(ctx context.Context, version string, image io.Reader, cfg installConfig) (InstallResult, error) {
	ctx, cancel := context.WithCancel(c.Context(ctx))
	defer cancel()
	stream, err := c.os.Install(ctx)
	if err != nil {
		return InstallResult{}, err
	}
	msgs := make(chan installMsg, 16)
	go func() {
		for {
			resp, err := stream.Recv()
			select {
			case msgs <- installMsg{resp, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var res InstallResult
	var prog InstallProgress
	report := func() {
		if cfg.progress != nil {
			cfg.progress(prog)
		}
	}
	// handle processes one message; done is set by a final answer.
	handle := func(m installMsg, transferring bool) (done bool, err error) {
		if m.err != nil {
			if errors.Is(m.err, io.EOF) {
				return true, fmt.Errorf("%w: stream ended without Validated or InstallError", ErrProtocol)
			}
			return true, m.err
		}
		switch r := m.resp.GetResponse().(type) {
		case *ospb.InstallResponse_Validated:
			res.Version, res.Description = r.Validated.GetVersion(), r.Validated.GetDescription()
			return true, nil
		case *ospb.InstallResponse_InstallError:
			return true, &InstallError{Type: r.InstallError.GetType(), Detail: r.InstallError.GetDetail()}
		case *ospb.InstallResponse_TransferProgress:
			prog.BytesReceived = r.TransferProgress.GetBytesReceived()
			report()
		case *ospb.InstallResponse_SyncProgress:
			prog.SyncPercent = r.SyncProgress.GetPercentageTransferred()
			report()
		case *ospb.InstallResponse_TransferReady:
			if transferring {
				return true, fmt.Errorf("%w: a second TransferReady", ErrProtocol)
			}
		default:
			return true, fmt.Errorf("%w: empty or unknown install response %T", ErrProtocol, r)
		}
		return false, nil
	}
	recv := func() (installMsg, error) {
		select {
		case m := <-msgs:
			return m, nil
		case <-ctx.Done():
			return installMsg{}, ctx.Err()
		}
	}

	err = stream.Send(&ospb.InstallRequest{Request: &ospb.InstallRequest_TransferRequest{TransferRequest: &ospb.TransferRequest{
		Version: version, StandbySupervisor: cfg.standby, PackageSize: cfg.size,
	}}})
	if err != nil && !errors.Is(err, io.EOF) {
		return res, err
	}
	// Wait for TransferReady, or a final answer.
	for {
		m, err := recv()
		if err != nil {
			return res, err
		}
		if r := m.resp.GetTransferReady(); r != nil && m.err == nil {
			break
		}
		if done, err := handle(m, false); done {
			return res, err
		}
	}
	if image == nil {
		return res, errors.New("the device has no package of that version and no image was given")
	}
	res.Transferred = true
	buf := make([]byte, c.o.chunkSize)
	ended := false // the device ended the stream during the transfer
	for eof := false; !eof && !ended; {
		n, rerr := io.ReadFull(image, buf)
		switch {
		case errors.Is(rerr, io.EOF), errors.Is(rerr, io.ErrUnexpectedEOF):
			eof = true
		case rerr != nil:
			return res, fmt.Errorf("read image after %d bytes: %w", res.BytesSent, rerr)
		}
		if n > 0 {
			err := stream.Send(&ospb.InstallRequest{Request: &ospb.InstallRequest_TransferContent{TransferContent: buf[:n]}})
			if errors.Is(err, io.EOF) {
				ended = true // its answer says why
				break
			}
			if err != nil {
				return res, err
			}
			res.BytesSent += uint64(n)
			prog.BytesSent = res.BytesSent
			report()
		}
		// Take the answers that arrived meanwhile.
		for drained := false; !drained; {
			select {
			case m := <-msgs:
				if done, err := handle(m, true); done {
					if err == nil {
						err = fmt.Errorf("%w: device validated the package before transfer_end", ErrProtocol)
					}
					return res, err
				}
			default:
				drained = true
			}
		}
	}
	if !ended {
		err = stream.Send(&ospb.InstallRequest{Request: &ospb.InstallRequest_TransferEnd{TransferEnd: &ospb.TransferEnd{}}})
		if errors.Is(err, io.EOF) {
			ended = true
		} else if err != nil {
			return res, err
		}
	}
	_ = stream.CloseSend()
	for {
		m, err := recv()
		if err != nil {
			return res, err
		}
		if done, err := handle(m, true); done {
			if err == nil && ended {
				err = fmt.Errorf("%w: device validated the package before transfer_end", ErrProtocol)
			}
			return res, err
		}
	}
}

// Activate makes version the one the device boots next and, unless
// noReboot is set, reboots it (gNOI os.Activate). An ActivateError of the
// device is returned as *ActivateError.
func (c *Client) Activate(ctx context.Context, version string, noReboot bool) error {
	resp, err := c.os.Activate(c.Context(ctx), &ospb.ActivateRequest{Version: version, NoReboot: noReboot})
	if err != nil {
		return rpcErr("os", "Activate", err)
	}
	switch r := resp.GetResponse().(type) {
	case *ospb.ActivateResponse_ActivateOk:
		return nil
	case *ospb.ActivateResponse_ActivateError:
		return rpcErr("os", "Activate", &ActivateError{Type: r.ActivateError.GetType(), Detail: r.ActivateError.GetDetail()})
	default:
		return rpcErr("os", "Activate", fmt.Errorf("%w: empty or unknown activate response %T", ErrProtocol, r))
	}
}

// VerifyResult is a device's answer to gNOI os.Verify.
type VerifyResult struct {
	// Version is the version running.
	Version string
	// ActivationFailMessage explains why the device fell back to its
	// previous version after an activation; empty after a successful one.
	ActivationFailMessage string
	// IndividualSupervisorInstall is set by dual supervisor devices that
	// need Install, Activate and Verify once per supervisor.
	IndividualSupervisorInstall bool
}

// Verify asks the device which version it runs (gNOI os.Verify).
func (c *Client) Verify(ctx context.Context) (VerifyResult, error) {
	return c.verify(ctx)
}

func (c *Client) verify(ctx context.Context, opts ...grpc.CallOption) (VerifyResult, error) {
	resp, err := c.os.Verify(c.Context(ctx), &ospb.VerifyRequest{}, opts...)
	if err != nil {
		return VerifyResult{}, rpcErr("os", "Verify", err)
	}
	return VerifyResult{
		Version:                     resp.GetVersion(),
		ActivationFailMessage:       resp.GetActivationFailMessage(),
		IndividualSupervisorInstall: resp.GetIndividualSupervisorInstall(),
	}, nil
}

// WaitVersion calls Verify until the device runs version, as the proto
// tells clients to do after an activation: while the device reboots, calls
// wait for the connection to come back (UNAVAILABLE is retried), and while
// it still runs the old version they are repeated, 50 ms apart growing to
// 1 s. It fails with ErrActivationFailed when the device reports an
// activation failure, with ErrUnsupported when it has no os service, and
// with the last answer and ctx's error when ctx ends first.
func (c *Client) WaitVersion(ctx context.Context, version string) (VerifyResult, error) {
	b := backoff.New(backoff.WithBase(50*time.Millisecond), backoff.WithMax(time.Second))
	var last VerifyResult
	var lastErr error
	for {
		res, err := c.verify(ctx, grpc.WaitForReady(true))
		switch {
		case err == nil && res.Version == version:
			return res, nil
		case err == nil && res.ActivationFailMessage != "":
			return res, rpcErr("os", "Verify", fmt.Errorf("%w: device runs %q: %s", ErrActivationFailed, res.Version, res.ActivationFailMessage))
		case err == nil:
			last, lastErr = res, nil
		case errors.Is(err, ErrUnsupported):
			return res, err
		case status.Code(err) == codes.Unavailable:
			lastErr = err
		case ctx.Err() != nil, status.Code(err) == codes.DeadlineExceeded, status.Code(err) == codes.Canceled:
			// ctx ended (gRPC may notice first): the wait below returns.
		default:
			return res, err
		}
		c.o.log.Debug("waiting for version", "want", version, "running", last.Version, "err", lastErr)
		if err := b.Wait(ctx); err != nil {
			switch {
			case lastErr != nil:
				return last, fmt.Errorf("gnoi: wait for version %q: %w (last error: %v)", version, err, lastErr)
			case last.Version != "":
				return last, fmt.Errorf("gnoi: wait for version %q: device still runs %q: %w", version, last.Version, err)
			}
			return last, fmt.Errorf("gnoi: wait for version %q: no answer: %w", version, err)
		}
	}
}
