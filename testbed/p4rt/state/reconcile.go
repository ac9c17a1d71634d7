package state

import (
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Reconcile carries the forwarding state of prev (the device under the
// previous pipeline) into d (normally fresh from New with the new
// pipeline), as SetForwardingPipelineConfig with RECONCILE_AND_COMMIT asks
// (spec "SetForwardingPipelineConfig RPC").
//
// A P4 object keeps its state when the new P4Info has an object of the same
// kind with the same ID and name; the state of objects that are gone is
// dropped. Every carried entity is validated against the new P4Info as a
// write would be (match fields, actions, parameters and their widths,
// sizes, meter types...), with the runtime state that goes with it (counter
// values, meter configurations and color counters, idle times). Packet
// replication entries do not depend on the P4Info and are always kept.
//
// If some state cannot be kept, Reconcile returns an INVALID_ARGUMENT status
// error naming it and leaves d as it was.
func (d *Device) Reconcile(prev *Device) error {
	if prev == nil || prev == d {
		return nil
	}
	prev.mu.RLock()
	defer prev.mu.RUnlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.startUndo()
	if err := d.reconcile(prev); err != nil {
		d.endUndo(true)
		return err
	}
	d.endUndo(false)
	return nil
}

func cannotKeep(format string, args ...any) func(*opError) error {
	what := fmt.Sprintf(format, args...)
	return func(oe *opError) error {
		return status.Errorf(codes.InvalidArgument, "cannot keep %s under the new P4Info: %s", what, oe.Error())
	}
}

func insertOrModify(exists bool) p4v1.Update_Type {
	if exists {
		return p4v1.Update_MODIFY
	}
	return p4v1.Update_INSERT
}

func (d *Device) reconcile(p *Device) error {
	for _, id := range sortedKeys(p.mcast) {
		_, ok := d.mcast[id]
		if oe := putPRE(d, d.mcast, insertOrModify(ok), id, p.mcast[id], "multicast group"); oe != nil {
			return cannotKeep("multicast group %d", id)(oe)
		}
	}
	for _, id := range sortedKeys(p.clones) {
		_, ok := d.clones[id]
		if oe := putPRE(d, d.clones, insertOrModify(ok), id, p.clones[id], "clone session"); oe != nil {
			return cannotKeep("clone session %d", id)(oe)
		}
	}
	for _, id := range sortedKeys(p.digests) {
		old, nw := p.s.DigestByID(id), d.s.DigestByID(id)
		if old == nil || nw == nil || old.Name != nw.Name {
			continue
		}
		_, ok := d.digests[id]
		if oe := d.writeDigest(insertOrModify(ok), &p4v1.DigestEntry{DigestId: id, Config: p.digests[id]}); oe != nil {
			return cannotKeep("digest %q", nw.Name)(oe)
		}
	}
	for _, ps := range p.profileList {
		np := d.profiles[ps.ap.ID]
		if np == nil || np.ap.Name != ps.ap.Name {
			continue
		}
		for _, id := range sortedKeys(ps.members) {
			if oe := d.writeMember(p4v1.Update_INSERT, ps.members[id].m); oe != nil {
				return cannotKeep("member %d of action profile %q", id, ps.ap.Name)(oe)
			}
		}
		for _, id := range sortedKeys(ps.groups) {
			if oe := d.writeGroup(p4v1.Update_INSERT, ps.groups[id].g); oe != nil {
				return cannotKeep("group %d of action profile %q", id, ps.ap.Name)(oe)
			}
		}
	}
	for _, pts := range p.tableList {
		nts := d.tables[pts.t.ID]
		if nts == nil || nts.t.Name != pts.t.Name {
			continue
		}
		if err := d.reconcileTable(pts, nts); err != nil {
			return err
		}
	}
	var err error
	for _, pcs := range p.counterList {
		ncs := d.counters[pcs.c.ID]
		if ncs == nil || ncs.c.Name != pcs.c.Name {
			continue
		}
		pcs.cells.written(func(i int64, c counterCell) {
			if err != nil {
				return
			}
			if oe := d.writeCounter(p4v1.Update_MODIFY, &p4v1.CounterEntry{CounterId: ncs.c.ID, Index: &p4v1.Index{Index: i},
				Data: &p4v1.CounterData{PacketCount: c.packets, ByteCount: c.bytes}}); oe != nil {
				err = cannotKeep("counter %q cell %d", pcs.c.Name, i)(oe)
			}
		})
	}
	for _, pms := range p.meterList {
		nms := d.meters[pms.m.ID]
		if nms == nil || nms.m.Name != pms.m.Name {
			continue
		}
		pms.cells.written(func(i int64, c meterCell) {
			if err != nil {
				return
			}
			if oe := d.writeMeter(p4v1.Update_MODIFY, &p4v1.MeterEntry{MeterId: nms.m.ID, Index: &p4v1.Index{Index: i}, Config: c.cfg}); oe != nil {
				err = cannotKeep("meter %q cell %d", pms.m.Name, i)(oe)
				return
			}
			if c.colors != nil {
				d.onUndo(nms.cells.save(i, i+1))
				n := nms.cells.get(i)
				colors := *c.colors
				n.colors = &colors
				nms.cells.set(i, n)
			}
		})
	}
	for _, prs := range p.registerList {
		nrs := d.registers[prs.r.ID]
		if nrs == nil || nrs.r.Name != prs.r.Name {
			continue
		}
		prs.cells.written(func(i int64, data *p4v1.P4Data) {
			if err != nil {
				return
			}
			if oe := d.writeRegister(p4v1.Update_MODIFY, &p4v1.RegisterEntry{RegisterId: nrs.r.ID, Index: &p4v1.Index{Index: i}, Data: data}); oe != nil {
				err = cannotKeep("register %q cell %d", prs.r.Name, i)(oe)
			}
		})
	}
	if err != nil {
		return err
	}
	for _, pvs := range p.valueSetList {
		nvs := d.valueSets[pvs.v.ID]
		if nvs == nil || nvs.v.Name != pvs.v.Name || len(pvs.members) == 0 {
			continue
		}
		if oe := d.writeValueSet(p4v1.Update_MODIFY, &p4v1.ValueSetEntry{ValueSetId: nvs.v.ID, Members: pvs.members}); oe != nil {
			return cannotKeep("value set %q", pvs.v.Name)(oe)
		}
	}
	return nil
}

// reconcileTable replays the entries of a table (and its default entry)
// into the table of the same ID and name under the new P4Info.
func (d *Device) reconcileTable(pts, nts *tableState) error {
	counter := pts.t.DirectCounter != nil && nts.t.DirectCounter != nil
	meter := pts.t.DirectMeter != nil && nts.t.DirectMeter != nil
	withResources := func(te *p4v1.TableEntry, e *entry) *p4v1.TableEntry {
		if counter {
			te.CounterData = &p4v1.CounterData{PacketCount: e.cnt.packets, ByteCount: e.cnt.bytes}
		}
		if meter {
			te.MeterConfig = e.meter
		}
		return te
	}
	copyRuntime := func(dst, src *entry) {
		old := *dst
		if meter && src.colors != nil {
			c := *src.colors
			dst.colors = &c
		}
		dst.lastHit, dst.idle = src.lastHit, src.idle
		d.onUndo(func() { *dst = old })
	}
	for _, e := range pts.list {
		te := withResources(&p4v1.TableEntry{
			TableId:            nts.t.ID,
			Match:              e.te.GetMatch(),
			Action:             e.te.GetAction(),
			Priority:           e.te.GetPriority(),
			ControllerMetadata: e.te.GetControllerMetadata(),
			Metadata:           e.te.GetMetadata(),
			IdleTimeoutNs:      e.te.GetIdleTimeoutNs(),
			IsConst:            e.isConst,
		}, e)
		if oe := d.writeTableEntry(p4v1.Update_INSERT, te, e.isConst || pts.t.IsConst); oe != nil {
			return cannotKeep("an entry of table %q", pts.t.Name)(oe)
		}
		copyRuntime(nts.list[len(nts.list)-1], e)
	}
	def := pts.def
	dte := withResources(&p4v1.TableEntry{TableId: nts.t.ID, IsDefaultAction: true}, def)
	if def.te != pts.initial {
		dte.Action = def.te.GetAction()
		dte.ControllerMetadata = def.te.GetControllerMetadata()
		dte.Metadata = def.te.GetMetadata()
	}
	if dte.Action != nil || dte.CounterData != nil || dte.MeterConfig != nil {
		if oe := d.writeDefault(p4v1.Update_MODIFY, nts, dte); oe != nil {
			return cannotKeep("the default entry of table %q", pts.t.Name)(oe)
		}
	}
	copyRuntime(nts.def, def)
	return nil
}
