package p4rt

import (
	"bytes"
	"fmt"

	"github.com/p4fabric/fabric/p4/roleconfig"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// electionID is a P4Runtime Uint128 election ID.
type electionID struct{ hi, lo uint64 }

// electionIDOf returns the election ID of u, or nil when u is unset: an unset
// election ID is lower than any other and never becomes primary, and it is
// not the same as {high: 0, low: 0} (spec "Unset Election ID").
func electionIDOf(u *p4v1.Uint128) *electionID {
	if u == nil {
		return nil
	}
	return &electionID{hi: u.GetHigh(), lo: u.GetLow()}
}

func (e electionID) cmp(o electionID) int {
	switch {
	case e.hi < o.hi:
		return -1
	case e.hi > o.hi:
		return 1
	case e.lo < o.lo:
		return -1
	case e.lo > o.lo:
		return 1
	}
	return 0
}

func (e electionID) proto() *p4v1.Uint128 { return &p4v1.Uint128{High: e.hi, Low: e.lo} }

func (e *electionID) String() string {
	if e == nil {
		return "<unset>"
	}
	if e.hi == 0 {
		return fmt.Sprintf("%d", e.lo)
	}
	return fmt.Sprintf("{high:%d low:%d}", e.hi, e.lo)
}

func sameID(a, b *electionID) bool {
	return a != nil && b != nil && *a == *b
}

// role is the arbitration state of one (device, role) pair. All fields are
// guarded by Server.mu.
type role struct {
	name string
	// past is the highest election ID the server has ever seen for the
	// role (spec: election_id_past); nil before any. It is never lowered:
	// only a full restart (a new Server) resets it.
	past *electionID
	// config is the role config most recently received from a primary;
	// nil means full pipeline access.
	config    *roleconfig.P4RoleConfig
	configAny *anypb.Any
	streams   map[*stream]struct{}
}

func newRole(name string) *role {
	return &role{name: name, streams: map[*stream]struct{}{}}
}

// primary returns the live stream that is the role's primary: the one whose
// election ID equals the highest ever seen. There is none when that
// controller has gone (spec "Client Arbitration Update": all controllers may
// be backups).
func (r *role) primary() *stream {
	if r.past == nil {
		return nil
	}
	for st := range r.streams {
		if sameID(st.eid, r.past) {
			return st
		}
	}
	return nil
}

// inUse reports whether another live stream of the role has election ID id.
func (r *role) inUse(id *electionID, self *stream) bool {
	if id == nil {
		return false // any number of unset (backup-only) controllers
	}
	for st := range r.streams {
		if st != self && sameID(st.eid, id) {
			return true
		}
	}
	return false
}

// allows reports whether the role may write (and read) the P4 object id.
// A role without config has full access; objects without a P4 ID (packet
// replication engine entries) are not restricted, as in Stratum.
func allows(cfg *roleconfig.P4RoleConfig, id uint32) bool {
	if cfg == nil || id == 0 {
		return true
	}
	for _, x := range cfg.GetExclusiveP4Ids() {
		if x == id {
			return true
		}
	}
	for _, x := range cfg.GetSharedP4Ids() {
		if x == id {
			return true
		}
	}
	return false
}

// receivesPacketIn reports whether a role with config cfg gets packet-in p.
func receivesPacketIn(cfg *roleconfig.P4RoleConfig, p *p4v1.PacketIn) bool {
	if cfg == nil {
		return true
	}
	if !cfg.GetReceivesPacketIns() {
		return false
	}
	f := cfg.GetPacketInFilter()
	if f == nil {
		return true
	}
	want := canonicalBytes(f.GetValue())
	for _, md := range p.GetMetadata() {
		if md.GetMetadataId() == f.GetMetadataId() && bytes.Equal(canonicalBytes(md.GetValue()), want) {
			return true
		}
	}
	return false
}

// canonicalBytes strips leading zero bytes, keeping one byte for zero, so
// that padded and canonical bytestrings compare equal.
func canonicalBytes(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return []byte{0}
	}
	return b
}

// parseRoleConfig unpacks and checks a role config (Stratum's rules): a
// packet-in filter needs receives_packet_ins and a non-empty value. The
// filter value is made canonical.
func parseRoleConfig(roleName string, a *anypb.Any) (*roleconfig.P4RoleConfig, error) {
	if roleName == "" {
		return nil, fmt.Errorf("the default role has full pipeline access and takes no role config")
	}
	cfg := &roleconfig.P4RoleConfig{}
	if a.GetTypeUrl() == "" || a.MessageName() != "stratum.P4RoleConfig" {
		return nil, fmt.Errorf("role config of type %q, want %q", a.GetTypeUrl(), roleconfig.TypeURL)
	}
	if err := proto.Unmarshal(a.GetValue(), cfg); err != nil {
		return nil, fmt.Errorf("role config: %v", err)
	}
	if f := cfg.GetPacketInFilter(); f != nil {
		if !cfg.GetReceivesPacketIns() {
			return nil, fmt.Errorf("role config has a packet_in_filter but receives_packet_ins is false")
		}
		if len(f.GetValue()) == 0 {
			return nil, fmt.Errorf("role config has a packet_in_filter with an empty value")
		}
		f.Value = canonicalBytes(f.GetValue())
	}
	return cfg, nil
}

// checkExclusiveLocked verifies that cfg claims no ID exclusively that
// another role's config lists, and shares no ID another role holds
// exclusively.
func (s *Server) checkExclusiveLocked(roleName string, cfg *roleconfig.P4RoleConfig) error {
	if cfg == nil {
		return nil
	}
	for _, r := range s.roles {
		if r.name == roleName || r.config == nil {
			continue
		}
		for _, id := range cfg.GetExclusiveP4Ids() {
			if contains(r.config.GetExclusiveP4Ids(), id) || contains(r.config.GetSharedP4Ids(), id) {
				return fmt.Errorf("role config claims P4 ID %d exclusively, but role %q lists it", id, r.name)
			}
		}
		for _, id := range cfg.GetSharedP4Ids() {
			if contains(r.config.GetExclusiveP4Ids(), id) {
				return fmt.Errorf("role config shares P4 ID %d, which role %q holds exclusively", id, r.name)
			}
		}
	}
	return nil
}

func contains(list []uint32, v uint32) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// arbitrate handles a MasterArbitrationUpdate received on st. A non-nil
// error ends the stream with that status (spec "Rules for Handling
// MasterArbitrationUpdate Messages Received from Controllers"; arbitration
// errors are never StreamErrors, spec "Stream Error Reporting").
func (s *Server) arbitrate(st *stream, upd *p4v1.MasterArbitrationUpdate) error {
	name := upd.GetRole().GetName()
	var cfg *roleconfig.P4RoleConfig
	var cfgErr error
	if a := upd.GetRole().GetConfig(); a != nil {
		cfg, cfgErr = parseRoleConfig(name, a)
	}
	id := electionIDOf(upd.GetElectionId())

	// A change of primary waits for the Write requests in flight (they
	// hold fwdMu), as the spec orders.
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.closed {
		return status.Error(codes.Canceled, "stream closed")
	}

	var old *electionID
	r := s.roles[name]
	if !st.arbitrated {
		// 1. First arbitration on this stream.
		if self := s.deviceID.Load(); upd.GetDeviceId() != self {
			return status.Errorf(codes.NotFound, "unknown device_id %d (this device is %d)", upd.GetDeviceId(), self)
		}
		if r == nil && s.fixedRoles {
			return status.Errorf(codes.NotFound, "unknown role %q", name)
		}
		if r != nil && r.inUse(id, st) {
			return status.Errorf(codes.InvalidArgument, "election_id %v is already used by another controller of role %q", id, name)
		}
		if cfgErr != nil {
			return status.Error(codes.InvalidArgument, cfgErr.Error())
		}
		if err := s.checkExclusiveLocked(name, cfg); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		if r != nil && s.maxPerRole > 0 && len(r.streams) >= s.maxPerRole {
			return status.Errorf(codes.ResourceExhausted, "role %q already has %d controllers, the most this device accepts", name, s.maxPerRole)
		}
		if r == nil {
			r = newRole(name)
			s.roles[name] = r
		}
		st.arbitrated, st.role, st.eid = true, r, id
		r.streams[st] = struct{}{}
		s.log.Info("p4rt: controller arbitrated", "stream", st.id, "role", name, "election_id", id.String())
	} else {
		// 2. Update from an already live controller.
		if self := s.deviceID.Load(); upd.GetDeviceId() != self {
			return status.Errorf(codes.FailedPrecondition, "arbitration cannot change the device_id from %d to %d", self, upd.GetDeviceId())
		}
		if name != st.role.name {
			return status.Errorf(codes.FailedPrecondition, "arbitration cannot change the role from %q to %q; open a new stream", st.role.name, name)
		}
		if cfgErr != nil {
			return status.Error(codes.InvalidArgument, cfgErr.Error())
		}
		if err := s.checkExclusiveLocked(name, cfg); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		if r.inUse(id, st) {
			return status.Errorf(codes.InvalidArgument, "election_id %v is already used by another controller of role %q", id, name)
		}
		old, st.eid = st.eid, id
		s.log.Info("p4rt: controller re-arbitrated", "stream", st.id, "role", name, "election_id", id.String(), "was", old.String())
	}

	wasPrimary := sameID(old, r.past)
	switch {
	case id != nil && (r.past == nil || id.cmp(*r.past) >= 0):
		// Becomes or stays primary; the role config is replaced by this
		// one (spec: "The server updates the role configuration to
		// role.config"), and everyone is told, including when nothing
		// but the config changed.
		cp := *id
		r.past = &cp
		r.config = cfg
		r.configAny = nil
		if cfg != nil {
			r.configAny, _ = anypb.New(cfg)
		}
		s.notifyRoleLocked(r, nil)
	case wasPrimary:
		// The primary downgraded itself: there is no primary now.
		s.notifyRoleLocked(r, nil)
	default:
		// A backup: only it is told.
		s.notifyRoleLocked(r, st)
	}
	return nil
}

// notifyRoleLocked sends the role's arbitration state to only, or to every
// live stream of the role when only is nil (spec "Client Arbitration
// Notifications").
func (s *Server) notifyRoleLocked(r *role, only *stream) {
	prim := r.primary()
	for st := range r.streams {
		if only != nil && st != only {
			continue
		}
		st.enqueue(&p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Arbitration{
			Arbitration: s.arbitrationStateLocked(r, prim, st),
		}}, classControl, &s.stats)
	}
}

func (s *Server) arbitrationStateLocked(r *role, prim, st *stream) *p4v1.MasterArbitrationUpdate {
	u := &p4v1.MasterArbitrationUpdate{DeviceId: s.deviceID.Load()}
	if r.name != "" {
		u.Role = &p4v1.Role{Name: r.name}
		if r.configAny != nil {
			u.Role.Config = proto.Clone(r.configAny).(*anypb.Any)
		}
	}
	if r.past != nil {
		// The highest election ID seen, the primary's if there is one;
		// unset if there never was a primary.
		u.ElectionId = r.past.proto()
	}
	switch {
	case prim == nil:
		u.Status = &spb.Status{Code: int32(codes.NotFound), Message: "you are a backup; there is no primary"}
	case prim == st:
		u.Status = &spb.Status{Code: int32(codes.OK), Message: "you are the primary"}
	default:
		u.Status = &spb.Status{Code: int32(codes.AlreadyExists), Message: "you are a backup; a primary exists"}
	}
	return u
}

// removeStream forgets a stream that has ended. If it was its role's
// primary, the role has no primary until a controller arbitrates with an
// election ID at least as high as the highest seen, and the remaining
// controllers are told (spec "Client Arbitration and Controller
// Replication": advisory message on a broken primary channel).
func (s *Server) removeStream(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.closed {
		return
	}
	st.closed = true
	delete(s.streams, st)
	if !st.arbitrated {
		return
	}
	r := st.role
	wasPrimary := r.primary() == st
	delete(r.streams, st)
	if wasPrimary {
		s.log.Info("p4rt: primary disconnected", "stream", st.id, "role", r.name, "election_id", st.eid.String())
		s.notifyRoleLocked(r, nil)
	}
}

// checkPrimaryLocked performs the checks the spec orders for Write and
// SetForwardingPipelineConfig: unknown device or role → NOT_FOUND; not the
// primary for (device_id, role) according to election_id →
// PERMISSION_DENIED.
func (s *Server) checkPrimaryLocked(deviceID uint64, roleName string, eid *p4v1.Uint128) (*role, error) {
	r, err := s.checkRoleLocked(deviceID, roleName)
	if err != nil {
		return nil, err
	}
	id := electionIDOf(eid)
	if id == nil {
		return nil, status.Error(codes.PermissionDenied, "election_id is not set; only the primary may do this")
	}
	prim := r.primary()
	if prim == nil {
		return nil, status.Errorf(codes.PermissionDenied, "role %q has no primary controller", roleName)
	}
	if !sameID(prim.eid, id) {
		return nil, status.Errorf(codes.PermissionDenied, "election_id %v is not the primary's for role %q", id, roleName)
	}
	return r, nil
}

// checkRoleLocked answers NOT_FOUND for an unknown device or role. A role is
// known when it was configured with WithRoles, or, by default, once a
// controller has arbitrated for it; the default role always is.
func (s *Server) checkRoleLocked(deviceID uint64, roleName string) (*role, error) {
	if self := s.deviceID.Load(); deviceID != self {
		return nil, status.Errorf(codes.NotFound, "unknown device_id %d (this device is %d)", deviceID, self)
	}
	r := s.roles[roleName]
	if r == nil {
		return nil, status.Errorf(codes.NotFound, "unknown role %q", roleName)
	}
	return r, nil
}

// SetDeviceID makes the server answer for device id from now on, as a
// switch does when its openconfig-p4rt node ID is set over gNMI
// (openconfig-p4rt.yang: node-id is "the numeric ID (device_id) used by
// the controller to address the integrated circuit"). Requests naming any
// other device_id, the old one included, are refused with NOT_FOUND, the
// code for a device_id the server does not know (spec "Rules for Handling
// MasterArbitrationUpdate Messages" and "Write RPC").
//
// Arbitration belongs to a (device_id, role) pair (spec "Client
// Arbitration and Controller Replication"), and a stream cannot move to
// another device_id (a later MasterArbitrationUpdate with another
// device_id is FAILED_PRECONDITION, same rules). So the controllers of the
// old ID have nothing left to be primary or backup of: every arbitrated
// stream is ended with NOT_FOUND, which clients take as final rather than
// retrying under the old ID, and each role starts over with no primary and
// no election_id_past, as a new device would. Streams that have not
// arbitrated yet stay open and may arbitrate for id. The forwarding
// pipeline and its entries are kept: the chip has not changed, only the
// number it answers to.
//
// Setting the current ID changes nothing.
func (s *Server) SetDeviceID(id uint64) {
	// fwdMu first (lock order): a Write in flight finishes under the ID
	// it was checked against.
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.deviceID.Load()
	if old == id {
		return
	}
	s.deviceID.Store(id)
	ended := 0
	for st := range s.streams {
		if !st.arbitrated {
			continue
		}
		// Detach the stream at once, as removeStream would once its RPC
		// returns, so that nothing it still sends (a late arbitration, a
		// packet-out) is taken as coming from a live controller.
		st.closed = true
		delete(s.streams, st)
		delete(st.role.streams, st)
		st.terminate(status.Errorf(codes.NotFound,
			"device_id %d is gone: this device is now %d (its openconfig-p4rt node-id changed); arbitrate again for %d", old, id, id))
		ended++
	}
	for _, r := range s.roles {
		r.past, r.config, r.configAny = nil, nil, nil
	}
	s.log.Info("p4rt: device ID changed", "from", old, "to", id, "streams_ended", ended)
}
