package state

import (
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// count adds packets and bytes to a cell as a counter of that unit counts.
func count(c *counterCell, unit p4configv1.CounterSpec_Unit, packets, bytes int64) {
	switch unit {
	case p4configv1.CounterSpec_PACKETS:
		c.packets += packets
	case p4configv1.CounterSpec_BYTES:
		c.bytes += bytes
	default:
		c.packets += packets
		c.bytes += bytes
	}
}

// AddCounter adds to a cell of an indirect counter, as the data plane does
// when it counts packets (only packets for a PACKETS counter, only bytes
// for a BYTES counter). The error is a status error: INVALID_ARGUMENT for
// an unknown counter or a negative index, OUT_OF_RANGE past the array.
func (d *Device) AddCounter(counterID uint32, index int64, packets, bytes int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs := d.counters[counterID]
	if cs == nil {
		return errStatus(errf(codes.InvalidArgument, "unknown counter ID %d", counterID), "")
	}
	if _, _, oe := cellRange(&p4v1.Index{Index: index}, cs.c.Size, "counter "+quote(cs.c.Name)); oe != nil {
		return errStatus(oe, "")
	}
	v := cs.cells.get(index)
	count(&v, cs.c.Unit, packets, bytes)
	cs.cells.set(index, v)
	return nil
}

// Hit records that the data plane matched packets against a table entry,
// identified like a direct resource does it (table_id with match and
// priority, or is_default_action): it adds to the entry's direct counter,
// if the table has one, and restarts the entry's idle timer. The error is
// a status error (NOT_FOUND for a missing entry).
func (d *Device) Hit(te *p4v1.TableEntry, packets, bytes int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if te == nil {
		return errStatus(errf(codes.InvalidArgument, "nil table entry"), "")
	}
	ts := d.tables[te.GetTableId()]
	if ts == nil {
		return errStatus(errf(codes.InvalidArgument, "unknown table ID %d", te.GetTableId()), "")
	}
	e, key, oe := ts.findEntry(te, d.keyBuf[:0])
	d.keyBuf = key
	if oe != nil {
		return errStatus(oe, "")
	}
	if dc := ts.t.DirectCounter; dc != nil {
		count(&e.cnt, dc.Unit, packets, bytes)
	}
	e.lastHit = d.now().UnixNano()
	e.idle = false
	return nil
}

// IdleEntries returns the entries whose idle timeout has expired at now
// (idle_timeout_ns > 0 and no hit for that long) and that were not returned
// since their last hit, and marks them returned: the entries the server
// reports in an IdleTimeoutNotification (spec "Idle-timeout"). The entries
// carry their key, metadata and idle_timeout_ns.
func (d *Device) IdleEntries(now time.Time) []*p4v1.TableEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := now.UnixNano()
	var out []*p4v1.TableEntry
	for _, ts := range d.tableList {
		if !ts.t.IdleTimeout {
			continue
		}
		for _, e := range ts.list {
			ttl := e.te.GetIdleTimeoutNs()
			if ttl <= 0 || e.idle || t-e.lastHit < ttl {
				continue
			}
			e.idle = true
			out = append(out, &p4v1.TableEntry{
				TableId: ts.t.ID, Match: e.te.GetMatch(), Priority: e.te.GetPriority(),
				ControllerMetadata: e.te.GetControllerMetadata(), Metadata: e.te.GetMetadata(),
				IdleTimeoutNs: ttl,
			})
		}
	}
	return out
}
