package gnoi

import (
	"context"
	"fmt"
	"time"

	hpb "github.com/openconfig/gnoi/healthz"
	tpb "github.com/openconfig/gnoi/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// healthzServer implements gnoi.healthz.Healthz: Get, List, Acknowledge and
// Check. Artifact is UNIMPLEMENTED: the emulated box collects no artifacts.
type healthzServer struct {
	hpb.UnimplementedHealthzServer
	s *Server
}

// healthState is the latest health event of a component: created when its
// health changes (or when it is first asked about).
type healthState struct {
	healthy bool
	gen     uint64
	created time.Time
	acked   bool
}

// Get returns the latest health event of a component and its
// subcomponents. The path must be /components/component[name=NAME]
// (origin empty or "openconfig"): other paths are INVALID_ARGUMENT, unknown
// components NOT_FOUND.
func (x *healthzServer) Get(ctx context.Context, req *hpb.GetRequest) (*hpb.GetResponse, error) {
	st, err := x.s.componentStatus(ctx, req.GetPath(), true)
	if err != nil {
		return nil, err
	}
	return &hpb.GetResponse{Component: st}, nil
}

// List returns the component's events: the box keeps only the latest, so
// the list holds that one, or nothing when it was acknowledged and
// include_acknowledged is not set.
func (x *healthzServer) List(ctx context.Context, req *hpb.ListRequest) (*hpb.ListResponse, error) {
	st, err := x.s.componentStatus(ctx, req.GetPath(), false)
	if err != nil {
		return nil, err
	}
	resp := &hpb.ListResponse{}
	if !st.GetAcknowledged() || req.GetIncludeAcknowledged() {
		resp.Statuses = append(resp.Statuses, st)
	}
	return resp, nil
}

// Acknowledge marks the component's latest event acknowledged; another ID
// is NOT_FOUND.
func (x *healthzServer) Acknowledge(ctx context.Context, req *hpb.AcknowledgeRequest) (*hpb.AcknowledgeResponse, error) {
	s := x.s
	st, err := s.componentStatus(ctx, req.GetPath(), false)
	if err != nil {
		return nil, err
	}
	if req.GetId() != st.GetId() {
		return nil, errorf(codes.NotFound, "component %s has no event %q (latest is %q)", componentName(req.GetPath()), req.GetId(), st.GetId())
	}
	s.mu.Lock()
	if h := s.health[componentName(req.GetPath())]; h != nil && eventID(componentName(req.GetPath()), h.gen) == req.GetId() {
		h.acked = true
	}
	s.mu.Unlock()
	st.Acknowledged = true
	return &hpb.AcknowledgeResponse{Status: st}, nil
}

// Check re-evaluates the component's health (cheaply: the emulated box
// has nothing expensive to collect) and returns its latest event.
func (x *healthzServer) Check(ctx context.Context, req *hpb.CheckRequest) (*hpb.CheckResponse, error) {
	st, err := x.s.componentStatus(ctx, req.GetPath(), true)
	if err != nil {
		return nil, err
	}
	return &hpb.CheckResponse{Status: st}, nil
}

// componentName returns the name of /components/component[name=NAME], or
// "" for any other path.
func componentName(p *tpb.Path) string {
	if p == nil || (p.GetOrigin() != "" && p.GetOrigin() != "openconfig") {
		return ""
	}
	e := p.GetElem()
	if len(e) != 2 || e[0].GetName() != "components" || len(e[0].GetKey()) != 0 ||
		e[1].GetName() != "component" || len(e[1].GetKey()) != 1 {
		return ""
	}
	return e[1].GetKey()["name"]
}

func eventID(name string, gen uint64) string { return fmt.Sprintf("%s#%d", name, gen) }

// componentPath returns /components/component[name=NAME].
func componentPath(name string) *tpb.Path {
	return &tpb.Path{Elem: []*tpb.PathElem{{Name: "components"}, {Name: "component", Key: map[string]string{"name": name}}}}
}

// componentStatus evaluates the box's health and returns the status of the
// component p names, with its subcomponents when sub is set.
func (s *Server) componentStatus(ctx context.Context, p *tpb.Path, sub bool) (*hpb.ComponentStatus, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	name := componentName(p)
	if name == "" {
		return nil, errorf(codes.InvalidArgument, "healthz path must be /components/component[name=NAME], got %v", pathString(p))
	}
	comps := s.cfg.health()
	now := s.clock.Now()
	byName := make(map[string]Component, len(comps))
	children := map[string][]string{}
	for _, c := range comps {
		if c.Name == "" {
			continue
		}
		if _, dup := byName[c.Name]; dup {
			continue
		}
		byName[c.Name] = c
		if c.Parent != "" && c.Parent != c.Name {
			children[c.Parent] = append(children[c.Parent], c.Name)
		}
	}
	if _, ok := byName[name]; !ok {
		return nil, errorf(codes.NotFound, "no health status for component %q", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	visited := map[string]bool{} // a health function may return a cycle
	var build func(name string) *hpb.ComponentStatus
	build = func(name string) *hpb.ComponentStatus {
		visited[name] = true
		c := byName[name]
		h := s.health[name]
		if h == nil || h.healthy != c.Healthy {
			gen := uint64(1)
			if h != nil {
				gen = h.gen + 1
			}
			h = &healthState{healthy: c.Healthy, gen: gen, created: now}
			s.health[name] = h
		}
		st := hpb.Status_STATUS_UNHEALTHY
		if c.Healthy {
			st = hpb.Status_STATUS_HEALTHY
		}
		cs := &hpb.ComponentStatus{
			Path:         componentPath(name),
			Status:       st,
			Id:           eventID(name, h.gen),
			Acknowledged: h.acked,
			Created:      timestamppb.New(h.created),
		}
		if sub {
			for _, child := range children[name] {
				if !visited[child] {
					cs.Subcomponents = append(cs.Subcomponents, build(child))
				}
			}
		}
		return cs
	}
	return build(name), nil
}

// pathString formats a gNOI path for messages.
func pathString(p *tpb.Path) string {
	if p == nil {
		return "<nil>"
	}
	out := ""
	if p.GetOrigin() != "" {
		out = p.GetOrigin() + ":"
	}
	for _, e := range p.GetElem() {
		out += "/" + e.GetName()
		for k, v := range e.GetKey() {
			out += fmt.Sprintf("[%s=%s]", k, v)
		}
	}
	if out == "" {
		return "/"
	}
	if len(out) > 200 {
		out = out[:200] + "..."
	}
	return out
}
