package gnoi

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	hpb "github.com/openconfig/gnoi/healthz"
	tpb "github.com/openconfig/gnoi/types"
)

// ComponentPath returns the path healthz expects for a component:
// /components/component[name=NAME].
func ComponentPath(name string) *tpb.Path {
	return &tpb.Path{Elem: []*tpb.PathElem{{Name: "components"}, {Name: "component", Key: map[string]string{"name": name}}}}
}

// PathString formats a gNOI path as gNMI path strings are written
// ("/components/component[name=chassis]"), keys sorted.
func PathString(p *tpb.Path) string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	if p.GetOrigin() != "" {
		b.WriteString(p.GetOrigin() + ":")
	}
	for _, e := range p.GetElem() {
		b.WriteString("/" + e.GetName())
		keys := make([]string, 0, len(e.GetKey()))
		for k := range e.GetKey() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "[%s=%s]", k, e.GetKey()[k])
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// ComponentHealth is one healthz event of a component.
type ComponentHealth struct {
	// Path is the component's path.
	Path string
	// Status is HEALTHY, UNHEALTHY or UNSPECIFIED (no healthz support).
	Status hpb.Status
	// Healthy is Status == STATUS_HEALTHY.
	Healthy bool
	// ID identifies the event.
	ID string
	// Acknowledged is set once a client acknowledged the event.
	Acknowledged bool
	// Created is when the event was created; zero when not reported.
	Created time.Time
	// Subcomponents are the statuses the component aggregates.
	Subcomponents []ComponentHealth
}

func componentHealth(cs *hpb.ComponentStatus, depth int) ComponentHealth {
	h := ComponentHealth{
		Path:         PathString(cs.GetPath()),
		Status:       cs.GetStatus(),
		Healthy:      cs.GetStatus() == hpb.Status_STATUS_HEALTHY,
		ID:           cs.GetId(),
		Acknowledged: cs.GetAcknowledged(),
	}
	if cs.GetCreated() != nil {
		h.Created = cs.GetCreated().AsTime()
	}
	if depth < 32 { // a device's answer cannot make the client recurse without end
		for _, sub := range cs.GetSubcomponents() {
			h.Subcomponents = append(h.Subcomponents, componentHealth(sub, depth+1))
		}
	}
	return h
}

// HealthGet returns the latest health of the component at path and of its
// subcomponents (gNOI healthz.Get).
func (c *Client) HealthGet(ctx context.Context, path *tpb.Path) (ComponentHealth, error) {
	resp, err := c.hz.Get(c.Context(ctx), &hpb.GetRequest{Path: path})
	if err != nil {
		return ComponentHealth{}, rpcErr("healthz", "Get", err)
	}
	return componentHealth(resp.GetComponent(), 0), nil
}

// HealthList returns the health events of the component at path (gNOI
// healthz.List), acknowledged ones too when includeAcknowledged is set.
func (c *Client) HealthList(ctx context.Context, path *tpb.Path, includeAcknowledged bool) ([]ComponentHealth, error) {
	resp, err := c.hz.List(c.Context(ctx), &hpb.ListRequest{Path: path, IncludeAcknowledged: includeAcknowledged})
	if err != nil {
		return nil, rpcErr("healthz", "List", err)
	}
	out := make([]ComponentHealth, 0, len(resp.GetStatuses()))
	for _, st := range resp.GetStatuses() {
		out = append(out, componentHealth(st, 0))
	}
	return out, nil
}

// HealthAcknowledge acknowledges the event id of the component at path
// (gNOI healthz.Acknowledge).
func (c *Client) HealthAcknowledge(ctx context.Context, path *tpb.Path, id string) (ComponentHealth, error) {
	resp, err := c.hz.Acknowledge(c.Context(ctx), &hpb.AcknowledgeRequest{Path: path, Id: id})
	if err != nil {
		return ComponentHealth{}, rpcErr("healthz", "Acknowledge", err)
	}
	return componentHealth(resp.GetStatus(), 0), nil
}
