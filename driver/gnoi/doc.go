// Package gnoi is a client for the gNOI operations of a white box: system
// (Time, Reboot, RebootStatus, CancelReboot), os (Install, Activate,
// Verify), healthz (Get, List, Acknowledge) and file (Get, Put, Stat,
// Remove), over the openconfig/gnoi protos.
//
// # Connecting
//
// Dial makes a client for one device; transport security is explicit
// (WithTLS or WithInsecure), credentials travel as "username"/"password"
// request metadata (WithCredentials). New wraps a connection the caller
// owns, such as one a driver shares between P4Runtime, gNMI and gNOI.
//
//	c, err := gnoi.Dial("10.0.0.1:9339", gnoi.WithTLS(tlsConf), gnoi.WithCredentials("admin", "secret"))
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	t, err := c.Time(ctx)
//	// t.Offset is the device's clock minus the local one, exact to ±t.ErrorBound.
//
// # Time
//
// Time returns the device's time, the round-trip time of the call, and the
// offset of the device's clock from the local one measured at the middle of
// the call. The device read its clock somewhere inside the call, so the
// true offset lies within Offset ± ErrorBound, where ErrorBound = RTT/2.
//
// # Software upgrade
//
// Install streams an OS package (TransferRequest, chunks, TransferEnd) and
// returns once the device has validated it; Activate marks it for the next
// boot and, unless told not to, reboots the device; WaitVersion then
// retries Verify through the reboot until the device runs the new version.
//
//	if _, err := c.Install(ctx, "2.0.0", image); err != nil {
//		return err
//	}
//	if err := c.Activate(ctx, "2.0.0", false); err != nil {
//		return err
//	}
//	if _, err := c.WaitVersion(ctx, "2.0.0"); err != nil {
//		return err
//	}
//
// # Errors
//
// Every error of an RPC is an *RPCError naming the service and the RPC;
// status.Code sees the gRPC code through it. A device that does not
// implement a service, or one RPC of it, answers UNIMPLEMENTED, and the
// error then matches ErrUnsupported with errors.Is. Answers that the os
// proto carries in messages rather than status codes come back as
// *InstallError and *ActivateError (errors.As).
package gnoi
