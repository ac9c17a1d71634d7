package gnoi

import (
	"context"
	"errors"
	"fmt"
	"io"

	ospb "github.com/openconfig/gnoi/os"
	syspb "github.com/openconfig/gnoi/system"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// osServer implements gnoi.os.OS: Install, Activate and Verify.
type osServer struct {
	ospb.UnimplementedOSServer
	s *Server
}

// packageInfo describes an installed OS package. The emulated box keeps no
// package bytes, only that the version is installed.
type packageInfo struct {
	description string
}

// installFailure ends an Install with an InstallError.
type installFailure struct {
	typ    ospb.InstallError_Type
	detail string
}

// Error names the type and the detail.
func (f *installFailure) Error() string { return fmt.Sprintf("%s: %s", f.typ, f.detail) }

func installErr(t ospb.InstallError_Type, format string, args ...any) error {
	return &installFailure{typ: t, detail: fmt.Sprintf(format, args...)}
}

// Install receives an OS package as the proto describes for a single
// supervisor target: a version already installed is Validated at once;
// otherwise TransferReady, the content (TransferProgress every progress
// interval), TransferEnd, then Validated or an InstallError. Every failure
// is an InstallError message followed by the end of the RPC without a gRPC
// error, as the proto requires: INSTALL_IN_PROGRESS for a concurrent
// Install, NOT_SUPPORTED_ON_BACKUP for standby_supervisor, TOO_LARGE beyond
// the maximum package size, PARSE_FAIL and INTEGRITY_FAIL for packages that
// are not well-formed FABRIC-OS/1 images (see NewImage), INSTALL_RUN_PACKAGE
// for a forced transfer (empty version) of the running version, and
// UNSPECIFIED for messages out of order. A client that ends the stream
// before TransferEnd gets UNSPECIFIED and nothing is installed.
func (x *osServer) Install(stream ospb.OS_InstallServer) error {
	s := x.s
	if err := s.authorize(stream.Context()); err != nil {
		return err
	}
	err := s.install(stream)
	var f *installFailure
	if errors.As(err, &f) {
		s.cfg.log.Info("install failed", "type", f.typ.String(), "detail", f.detail)
		return stream.Send(&ospb.InstallResponse{Response: &ospb.InstallResponse_InstallError{
			InstallError: &ospb.InstallError{Type: f.typ, Detail: f.detail},
		}})
	}
	return err
}

func (s *Server) install(stream ospb.OS_InstallServer) error {
	req, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return installErr(ospb.InstallError_UNSPECIFIED, "stream ended before a transfer_request")
	}
	if err != nil {
		return err
	}
	tr := req.GetTransferRequest()
	if tr == nil {
		return installErr(ospb.InstallError_UNSPECIFIED, "the first message must be a transfer_request, got %T", req.GetRequest())
	}
	if tr.GetStandbySupervisor() {
		return installErr(ospb.InstallError_NOT_SUPPORTED_ON_BACKUP, "the box has a single supervisor")
	}
	if v := tr.GetVersion(); v != "" {
		if err := checkVersion(v); err != nil {
			return installErr(ospb.InstallError_UNSPECIFIED, "%v", err)
		}
	}
	s.mu.Lock()
	if s.installing {
		s.mu.Unlock()
		return installErr(ospb.InstallError_INSTALL_IN_PROGRESS, "another Install is in progress")
	}
	s.installing = true
	info, known := s.packages[tr.GetVersion()]
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.installing = false
		s.mu.Unlock()
	}()

	if tr.GetVersion() != "" && known {
		return stream.Send(validated(tr.GetVersion(), "already installed: "+info.description))
	}
	if size := tr.GetPackageSize(); size > s.cfg.maxPackageSize {
		return installErr(ospb.InstallError_TOO_LARGE, "package of %d bytes exceeds the %d bytes available", size, s.cfg.maxPackageSize)
	}
	if err := stream.Send(&ospb.InstallResponse{Response: &ospb.InstallResponse_TransferReady{TransferReady: &ospb.TransferReady{}}}); err != nil {
		return err
	}

	var img imageReader
	var nextProgress = s.cfg.progressInterval
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return installErr(ospb.InstallError_UNSPECIFIED, "stream ended before transfer_end after %d bytes; nothing installed", img.n)
		}
		if err != nil {
			return err
		}
		switch r := req.GetRequest().(type) {
		case *ospb.InstallRequest_TransferContent:
			_, _ = img.Write(r.TransferContent)
			if img.n > s.cfg.maxPackageSize {
				return installErr(ospb.InstallError_TOO_LARGE, "package exceeds the %d bytes available", s.cfg.maxPackageSize)
			}
			if img.n >= nextProgress {
				nextProgress = img.n - img.n%s.cfg.progressInterval + s.cfg.progressInterval
				err := stream.Send(&ospb.InstallResponse{Response: &ospb.InstallResponse_TransferProgress{
					TransferProgress: &ospb.TransferProgress{BytesReceived: img.n},
				}})
				if err != nil {
					return err
				}
			}
		case *ospb.InstallRequest_TransferEnd:
			return s.finishInstall(stream, tr, &img)
		case *ospb.InstallRequest_TransferRequest:
			return installErr(ospb.InstallError_UNSPECIFIED, "unexpected transfer_request during the transfer")
		default:
			return installErr(ospb.InstallError_UNSPECIFIED, "empty or unknown install request %T", r)
		}
	}
}

func (s *Server) finishInstall(stream ospb.OS_InstallServer, tr *ospb.TransferRequest, img *imageReader) error {
	version, err := img.finish()
	switch {
	case errors.Is(err, ErrImageIntegrity):
		return installErr(ospb.InstallError_INTEGRITY_FAIL, "%v", err)
	case err != nil:
		return installErr(ospb.InstallError_PARSE_FAIL, "%v", err)
	}
	if tr.GetVersion() == "" && version == s.box.SoftwareVersion() {
		return installErr(ospb.InstallError_INSTALL_RUN_PACKAGE, "version %s is the running version", version)
	}
	desc := fmt.Sprintf("emulated OS package, %d bytes", img.n)
	s.mu.Lock()
	s.packages[version] = packageInfo{description: desc}
	s.mu.Unlock()
	s.cfg.log.Info("package installed", "version", version, "bytes", img.n)
	return stream.Send(validated(version, desc))
}

func validated(version, desc string) *ospb.InstallResponse {
	return &ospb.InstallResponse{Response: &ospb.InstallResponse_Validated{
		Validated: &ospb.Validated{Version: version, Description: desc},
	}}
}

// Activate makes an installed version the one the next boot runs and,
// unless no_reboot is set, reboots the box (COLD, after the reboot grace)
// so that it runs it. Activating the running version answers ActivateOK
// without a reboot and cancels an earlier activation. Unknown and empty
// versions are NON_EXISTENT_VERSION, standby_supervisor is
// NOT_SUPPORTED_ON_BACKUP; boot_config is ignored. When a reboot is
// already pending, the activation rides on it.
func (x *osServer) Activate(ctx context.Context, req *ospb.ActivateRequest) (*ospb.ActivateResponse, error) {
	s := x.s
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	if req.GetStandbySupervisor() {
		return activateError(ospb.ActivateError_NOT_SUPPORTED_ON_BACKUP, "the box has a single supervisor"), nil
	}
	v := req.GetVersion()
	running := s.box.SoftwareVersion()
	s.mu.Lock()
	_, known := s.packages[v]
	switch {
	case v == "" || !known:
		s.mu.Unlock()
		return activateError(ospb.ActivateError_NON_EXISTENT_VERSION, fmt.Sprintf("version %q is not installed", v)), nil
	case v == running:
		s.next = ""
		s.mu.Unlock()
		return activateOK(), nil
	}
	s.next = v
	pending := s.pending != nil
	s.mu.Unlock()
	s.cfg.log.Info("version activated", "version", v, "no_reboot", req.GetNoReboot())
	if req.GetNoReboot() || pending {
		return activateOK(), nil
	}
	err := s.scheduleReboot(syspb.RebootMethod_COLD, 0, "activate software version "+v)
	if status.Code(err) == codes.Unavailable {
		return nil, err
	}
	// A reboot pending meanwhile boots the activated version as well.
	return activateOK(), nil
}

func activateOK() *ospb.ActivateResponse {
	return &ospb.ActivateResponse{Response: &ospb.ActivateResponse_ActivateOk{ActivateOk: &ospb.ActivateOK{}}}
}

func activateError(t ospb.ActivateError_Type, detail string) *ospb.ActivateResponse {
	return &ospb.ActivateResponse{Response: &ospb.ActivateResponse_ActivateError{
		ActivateError: &ospb.ActivateError{Type: t, Detail: detail},
	}}
}

// Verify reports the running version. The box has a single supervisor, so
// verify_standby says UNSUPPORTED.
func (x *osServer) Verify(ctx context.Context, _ *ospb.VerifyRequest) (*ospb.VerifyResponse, error) {
	if err := x.s.authorize(ctx); err != nil {
		return nil, err
	}
	return &ospb.VerifyResponse{
		Version: x.s.box.SoftwareVersion(),
		VerifyStandby: &ospb.VerifyStandby{State: &ospb.VerifyStandby_StandbyState{
			StandbyState: &ospb.StandbyState{State: ospb.StandbyState_UNSUPPORTED},
		}},
	}, nil
}
