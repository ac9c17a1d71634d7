package gnmi

import (
	"errors"
	"fmt"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
)

// Update is one flat record of a notification: a path, its value and the
// time the target collected it.
type Update struct {
	// Target is the prefix's target, when the target set one.
	Target string `json:"target,omitempty"`
	// Path is the full path (prefix + path) in PathString form.
	Path string `json:"path"`
	// Value is the decoded value (see DecodeValue); nil for a delete. When
	// the value could not be decoded it is the raw *gpb.TypedValue and the
	// error is reported by Flatten.
	Value any `json:"value,omitempty"`
	// Timestamp is the notification's timestamp.
	Timestamp time.Time `json:"timestamp"`
	// Deleted reports that the path was deleted on the target.
	Deleted bool `json:"deleted,omitempty"`
	// Duplicates counts the values the target coalesced into this one.
	Duplicates uint32 `json:"duplicates,omitempty"`
}

// Flatten decodes a notification into flat records: one per update, then
// one per delete, each with the full path (prefix + path). Every update is
// returned even when some fail to decode; the error then joins one error per
// failed update, naming its path. A nil notification has no records.
func Flatten(n *gpb.Notification) ([]Update, error) {
	if n == nil {
		return nil, nil
	}
	ts := time.Unix(0, n.GetTimestamp())
	target := n.GetPrefix().GetTarget()
	out := make([]Update, 0, len(n.GetUpdate())+len(n.GetDelete()))
	var errs []error
	for i, u := range n.GetUpdate() {
		p, err := PathString(joinShared(n.GetPrefix(), u.GetPath()))
		if err != nil {
			errs = append(errs, fmt.Errorf("update %d: %w", i, err))
			continue
		}
		rec := Update{Target: target, Path: p, Timestamp: ts, Duplicates: u.GetDuplicates()}
		if v, err := DecodeValue(u.GetVal()); err != nil {
			errs = append(errs, fmt.Errorf("update %d %s: %w", i, p, err))
			rec.Value = u.GetVal()
		} else {
			rec.Value = v
		}
		out = append(out, rec)
	}
	for i, d := range n.GetDelete() {
		p, err := PathString(joinShared(n.GetPrefix(), d))
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %d: %w", i, err))
			continue
		}
		out = append(out, Update{Target: target, Path: p, Timestamp: ts, Deleted: true})
	}
	return out, errors.Join(errs...)
}

// joinShared is JoinPaths without copying the elements, for paths that are
// only read.
func joinShared(prefix, p *gpb.Path) *gpb.Path {
	if len(prefix.GetElem()) == 0 && prefix.GetOrigin() == "" {
		return p
	}
	origin := prefix.GetOrigin()
	if origin == "" {
		origin = p.GetOrigin()
	}
	elems := make([]*gpb.PathElem, 0, len(prefix.GetElem())+len(p.GetElem()))
	elems = append(append(elems, prefix.GetElem()...), p.GetElem()...)
	return &gpb.Path{Origin: origin, Elem: elems}
}
