// Package inventory is the chassis' list of boxes: each box is known by its
// identity (the serial its driver reports), not by its address, has a role
// (controller, forwarder, fabric) and a module ID that makes it a slot of
// the chassis without a physical slot.
//
// Module IDs start at 1 and are allocated in the store (package
// orchestrator/store, bbolt or etcd) by compare-and-swap: a new box gets
// the lowest free ID in one transaction that writes its record and binds
// the ID to its serial only if neither exists yet. So an ID is never given
// to two boxes, even by two orchestrators allocating at once on one etcd
// cluster; it survives orchestrator restarts (the state is in the store),
// box reconnects and address changes (the box is registered again under
// the same serial); and it is freed only by Decommission.
//
// Finding the lowest free ID does not read the whole inventory: an
// Inventory remembers the IDs held (read from the store once, then kept by
// its own writes) and the transaction checks that memory. An ID another
// orchestrator took fails the transaction's compare and is tried no more;
// an ID another orchestrator freed is seen through <prefix>freed, which
// every Decommission rewrites and which the transaction compares, so the
// memory is read again from the store. New boxes registered at once through
// one Inventory share transactions (up to 63 boxes each), which get the
// lowest free IDs for all of them or for none. Registering n boxes thus
// costs O(n) in all, not O(n²). Only an orchestrator of an earlier version
// decommissioning on the same store goes unseen (it does not rewrite
// <prefix>freed): IDs stay unique, but the ID it freed is reused only once
// this Inventory reads the store again.
//
// The keys, under the prefix (DefaultPrefix unless WithPrefix):
//
//	<prefix>boxes/<serial>   the box's record (JSON, see Box)
//	<prefix>modules/<id>     the serial that holds module id
//	<prefix>freed            the module ID last freed; rewritten by every
//	                         Decommission (see Inventory.FreedKey)
//
// Stores written before <prefix>freed existed open as they are: a missing
// key reads as "nothing freed yet".
//
// Chassis-wide interface names "eth-<module>/0/<port>" (eth-3/0/12 is port
// 12 of module 3) name a P4Runtime port of a box; the ports of a box come
// from its driver's port map, read at registration (Resolve,
// InterfaceName, Interfaces; ParseInterface and FormatInterface).
package inventory
