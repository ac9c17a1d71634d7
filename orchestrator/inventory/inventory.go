package inventory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/p4fabric/fabric/driver"
	"github.com/p4fabric/fabric/orchestrator/store"
)

// Errors callers branch on. Test for them with errors.Is; the errors
// returned name the box (serial), module or interface concerned.
var (
	// ErrUnknownBox: no box with that serial is registered.
	ErrUnknownBox = errors.New("inventory: unknown box")
	// ErrUnknownModule: no box holds that module ID.
	ErrUnknownModule = errors.New("inventory: unknown module")
	// ErrModuleTaken: the module ID asked for (BoxSpec.Module) is held
	// by another box.
	ErrModuleTaken = errors.New("inventory: module taken")
	// ErrModuleMismatch: the box already holds another module ID than
	// the one asked for (BoxSpec.Module).
	ErrModuleMismatch = errors.New("inventory: box holds another module")
	// ErrNoFreeModule: every module ID up to the inventory's maximum is
	// held.
	ErrNoFreeModule = errors.New("inventory: no free module ID")
	// ErrNoSerial: the box's identity has no serial number.
	ErrNoSerial = errors.New("inventory: identity has no serial")
	// ErrUnknownPort: the box has no port with that P4Runtime port ID.
	ErrUnknownPort = errors.New("inventory: unknown port")
	// ErrInvalidName: a chassis-wide interface name is malformed.
	ErrInvalidName = errors.New("inventory: invalid interface name")
	// ErrInvalid: an argument no call accepts (a bad spec, module 0, a
	// nil store or device).
	ErrInvalid = errors.New("inventory: invalid argument")
)

// MaxModule is the largest module ID the inventory ever allocates, and the
// default of WithMaxModule.
const MaxModule = 1<<16 - 1

// DefaultPrefix is the store prefix of the inventory's keys.
const DefaultPrefix = "/fabric/inventory/"

type options struct {
	prefix    string
	maxModule uint32
	log       *slog.Logger
	now       func() time.Time
}

// Option configures New.
type Option func(*options)

// WithPrefix keeps the inventory under prefix in the store (default
// DefaultPrefix): boxes at <prefix>boxes/<serial>, modules at
// <prefix>modules/<id>. A "/" is added when prefix lacks one. Inventories
// that share a prefix on one store share their boxes and module IDs.
func WithPrefix(prefix string) Option {
	return func(o *options) {
		if prefix != "" {
			if !strings.HasSuffix(prefix, "/") {
				prefix += "/"
			}
			o.prefix = prefix
		}
	}
}

// WithMaxModule caps the module IDs allocated at n (1 ≤ n ≤ MaxModule;
// other values are ignored). Past it, Register fails with ErrNoFreeModule.
func WithMaxModule(n uint32) Option {
	return func(o *options) {
		if n >= 1 && n <= MaxModule {
			o.maxModule = n
		}
	}
}

// WithLogger sends the inventory's records (registrations, decommissions,
// allocation retries) to l. A nil l is ignored; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithClock sets the clock of the Registered and Updated times (default
// time.Now). A nil now is ignored.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// Inventory is the chassis' list of boxes and their module IDs, kept in a
// store. Any number of Inventory values, in one process or in several, may
// share a store (and prefix): module IDs are allocated by compare-and-swap
// transactions, so no ID is ever given to two boxes. The only state an
// Inventory keeps beyond its options is its memory of the module IDs held,
// a hint that every allocation checks against the store (see the package
// doc). It is safe for concurrent use; create one per store and prefix in a
// process, so that concurrent registrations share transactions.
type Inventory struct {
	st      store.Store
	drivers *driver.Registry
	o       options
	alloc   *allocator
}

// New returns an inventory kept in st that opens boxes with the drivers of
// drivers. drivers may be nil when boxes are only registered with
// RegisterDevice.
func New(st store.Store, drivers *driver.Registry, opts ...Option) (*Inventory, error) {
	if st == nil {
		return nil, fmt.Errorf("inventory: nil store: %w", ErrInvalid)
	}
	o := options{prefix: DefaultPrefix, maxModule: MaxModule, log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	inv := &Inventory{st: st, drivers: drivers, o: o}
	inv.alloc = newAllocator(inv)
	return inv, nil
}

func (inv *Inventory) boxPrefix() string    { return inv.o.prefix + "boxes/" }
func (inv *Inventory) modulePrefix() string { return inv.o.prefix + "modules/" }

// BoxKey returns the store key of the record of the box with serial.
func (inv *Inventory) BoxKey(serial string) string {
	return inv.boxPrefix() + url.PathEscape(serial)
}

// ModuleKey returns the store key that binds module ID id to a serial.
func (inv *Inventory) ModuleKey(id uint32) string {
	return inv.modulePrefix() + strconv.FormatUint(uint64(id), 10)
}

// Register opens the box spec describes with its driver, reads its
// identity and port map, closes it, and records the box under its serial
// (see RegisterDevice).
func (inv *Inventory) Register(ctx context.Context, spec BoxSpec) (Box, error) {
	if err := spec.Validate(); err != nil {
		return Box{}, err
	}
	if inv.drivers == nil {
		return Box{}, fmt.Errorf("inventory: register box %q: no driver registry: %w", spec.Name, ErrInvalid)
	}
	dev, err := inv.drivers.Open(ctx, spec.DriverSpec())
	if err != nil {
		return Box{}, fmt.Errorf("inventory: register box %q at %s: %w", spec.Name, addressOf(spec), err)
	}
	defer dev.Close()
	return inv.RegisterDevice(ctx, spec, dev)
}

// RegisterDevice records a box already open as dev (the orchestrator keeps
// its devices open): it reads the identity and, where the driver can map
// ports, the port map, and stores the record under the identity's serial.
//
// A new serial gets the lowest free module ID (or spec.Module), allocated
// in one transaction with the record. A serial already registered keeps
// its module ID; its address, spec, identity and ports are updated — a box
// that moved to a new address is the same box. dev stays open.
//
// New boxes registered at the same time share a store transaction. If ctx
// ends while the transaction that holds this box is under way, the box may
// be registered although RegisterDevice returns ctx's error, as with any
// store write cut short; registering it again finds it.
func (inv *Inventory) RegisterDevice(ctx context.Context, spec BoxSpec, dev driver.Device) (Box, error) {
	if err := spec.Validate(); err != nil {
		return Box{}, err
	}
	if dev == nil {
		return Box{}, fmt.Errorf("inventory: register box %q: nil device: %w", spec.Name, ErrInvalid)
	}
	id, err := dev.Identity(ctx)
	if err != nil {
		return Box{}, fmt.Errorf("inventory: register box %q: identity: %w", spec.Name, err)
	}
	if id.Serial == "" {
		return Box{}, fmt.Errorf("inventory: register box %q (%v): %w", spec.Name, id, ErrNoSerial)
	}
	var ports []driver.Port
	m, err := dev.Ports(ctx)
	switch {
	case errors.Is(err, driver.ErrUnsupported):
	case err != nil:
		return Box{}, fmt.Errorf("inventory: register box %q (serial %s): ports: %w", spec.Name, id.Serial, err)
	default:
		ports = m.Ports()
		if ports == nil {
			ports = []driver.Port{}
		}
	}
	return inv.put(ctx, spec.Clone(), id, ports)
}

// put stores the record of the box with identity id, allocating its module
// ID if it is new, retrying on every conflict until ctx ends.
func (inv *Inventory) put(ctx context.Context, spec BoxSpec, id driver.Identity, ports []driver.Port) (Box, error) {
	serial := id.Serial
	boxKey := inv.BoxKey(serial)
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Box{}, fmt.Errorf("inventory: register box %s: %w", serial, err)
		}
		if attempt > 0 {
			inv.o.log.Debug("inventory: conflict, retrying", "serial", serial, "attempt", attempt)
		}
		now := inv.o.now().UTC()
		cur, found, err := inv.get(ctx, serial)
		if err != nil {
			return Box{}, err
		}
		if found {
			if spec.Module != 0 && spec.Module != cur.Module {
				return Box{}, fmt.Errorf("inventory: box %s holds module %d, asked for module %d: %w",
					serial, cur.Module, spec.Module, ErrModuleMismatch)
			}
			b := cur
			b.Identity, b.Spec, b.Ports, b.Updated = id, spec, ports, now
			b.Spec.Module = 0
			val, err := encodeBox(b)
			if err != nil {
				return Box{}, err
			}
			res, err := inv.st.Txn(ctx, store.Txn{
				If: []store.Compare{
					store.CompareModRevision(boxKey, store.Equal, cur.Revision),
					store.CompareValue(inv.ModuleKey(cur.Module), store.Equal, []byte(serial)),
				},
				Then: []store.Op{store.OpPut(boxKey, val)},
				Else: []store.Op{store.OpGet(boxKey), store.OpGet(inv.ModuleKey(cur.Module))},
			})
			if err != nil {
				return Box{}, fmt.Errorf("inventory: update box %s (module %d): %w", serial, cur.Module, err)
			}
			if !res.Succeeded {
				if err := inv.broken(cur, res); err != nil {
					return Box{}, err
				}
				continue
			}
			b.Revision = res.Revision
			inv.o.log.Info("inventory: box updated", "serial", serial, "module", b.Module, "address", addressOf(spec))
			return b, nil
		}

		b := Box{Serial: serial, Identity: id, Spec: spec, Ports: ports, Registered: now, Updated: now}
		b.Spec.Module = 0
		out := inv.alloc.claim(ctx, b, spec.Module)
		if out.retry {
			continue // registered meanwhile: update it
		}
		return out.box, out.err
	}
}

// encodeBox returns the record of b as stored.
func encodeBox(b Box) ([]byte, error) {
	val, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("inventory: box %s: encode: %w", b.Serial, err)
	}
	return val, nil
}

// get reads the record of serial; found is false if there is none.
func (inv *Inventory) get(ctx context.Context, serial string) (Box, bool, error) {
	kv, err := inv.st.Get(ctx, inv.BoxKey(serial))
	if errors.Is(err, store.ErrNotFound) {
		return Box{}, false, nil
	}
	if err != nil {
		return Box{}, false, fmt.Errorf("inventory: read box %s: %w", serial, err)
	}
	b, err := decode(kv)
	if err != nil {
		return Box{}, false, err
	}
	return b, true, nil
}

func decode(kv store.KeyValue) (Box, error) {
	var b Box
	if err := json.Unmarshal(kv.Value, &b); err != nil {
		return Box{}, fmt.Errorf("inventory: decode record %q: %w", kv.Key, err)
	}
	b.Revision = kv.ModRevision
	return b, nil
}

// Get returns the box with serial, or an error wrapping ErrUnknownBox.
func (inv *Inventory) Get(ctx context.Context, serial string) (Box, error) {
	b, found, err := inv.get(ctx, serial)
	if err != nil {
		return Box{}, err
	}
	if !found {
		return Box{}, fmt.Errorf("inventory: box %s: %w", serial, ErrUnknownBox)
	}
	return b, nil
}

// ByModule returns the box holding module ID id, or an error wrapping
// ErrUnknownModule.
func (inv *Inventory) ByModule(ctx context.Context, id uint32) (Box, error) {
	if id == 0 {
		return Box{}, fmt.Errorf("inventory: module 0: module IDs start at 1: %w", ErrUnknownModule)
	}
	kv, err := inv.st.Get(ctx, inv.ModuleKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return Box{}, fmt.Errorf("inventory: module %d: %w", id, ErrUnknownModule)
	}
	if err != nil {
		return Box{}, fmt.Errorf("inventory: read module %d: %w", id, err)
	}
	b, found, err := inv.get(ctx, string(kv.Value))
	if err != nil {
		return Box{}, err
	}
	if !found || b.Module != id {
		// Decommissioned between the two reads.
		return Box{}, fmt.Errorf("inventory: module %d: %w", id, ErrUnknownModule)
	}
	return b, nil
}

// List returns every box, sorted by module ID, and the store revision the
// list was read at: Watch(ctx, WatchFrom(rev+1)) reports every change
// after it.
func (inv *Inventory) List(ctx context.Context) ([]Box, int64, error) {
	res, err := inv.st.Range(ctx, inv.boxPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("inventory: list boxes: %w", err)
	}
	boxes := make([]Box, 0, len(res.KVs))
	for _, kv := range res.KVs {
		b, err := decode(kv)
		if err != nil {
			return nil, 0, err
		}
		boxes = append(boxes, b)
	}
	slices.SortFunc(boxes, func(a, b Box) int { return cmp.Compare(a.Module, b.Module) })
	return boxes, res.Revision, nil
}

// Decommission removes the box with serial and frees its module ID for the
// next new box, in one transaction. It returns the box as it was, or an
// error wrapping ErrUnknownBox.
func (inv *Inventory) Decommission(ctx context.Context, serial string) (Box, error) {
	for {
		cur, err := inv.Get(ctx, serial)
		if err != nil {
			return Box{}, err
		}
		boxKey, modKey, freedKey := inv.BoxKey(serial), inv.ModuleKey(cur.Module), inv.FreedKey()
		res, err := inv.st.Txn(ctx, store.Txn{
			If: []store.Compare{
				store.CompareModRevision(boxKey, store.Equal, cur.Revision),
				store.CompareValue(modKey, store.Equal, []byte(serial)),
			},
			// Rewriting <prefix>freed tells every inventory allocating
			// from its memory that an ID is free again; the Get first
			// tells this one whether it missed another Decommission.
			Then: []store.Op{
				store.OpGet(freedKey),
				store.OpDelete(boxKey), store.OpDelete(modKey),
				store.OpPut(freedKey, []byte(strconv.FormatUint(uint64(cur.Module), 10))),
			},
			Else: []store.Op{store.OpGet(boxKey), store.OpGet(modKey)},
		})
		if err != nil {
			return Box{}, fmt.Errorf("inventory: decommission box %s (module %d): %w", serial, cur.Module, err)
		}
		if res.Succeeded {
			prev := int64(-1) // unknown: the memory will be read again
			if len(res.Results) == 4 {
				prev = 0 // a missing key's mod revision
				if res.Results[0].Found {
					prev = res.Results[0].KV.ModRevision
				}
			}
			inv.alloc.freed(cur.Module, prev, res.Revision)
			inv.o.log.Info("inventory: box decommissioned", "serial", serial, "module", cur.Module)
			return cur, nil
		}
		if err := inv.broken(cur, res); err != nil {
			return Box{}, err
		}
		if err := ctx.Err(); err != nil {
			return Box{}, fmt.Errorf("inventory: decommission box %s: %w", serial, err)
		}
	}
}

// broken returns an error when a failed transaction on cur's record (whose
// Else read the box key, then its module key) failed not because the record
// changed but because its module binding is not the box's: the store was
// changed behind the inventory's back, and retrying would never succeed.
func (inv *Inventory) broken(cur Box, res store.TxnResult) error {
	if len(res.Results) != 2 {
		return fmt.Errorf("inventory: box %s: store returned %d results for two gets", cur.Serial, len(res.Results))
	}
	box, mod := res.Results[0], res.Results[1]
	if !box.Found || box.KV.ModRevision != cur.Revision {
		return nil // the record changed: retry
	}
	holder := "nobody"
	if mod.Found {
		holder = "box " + string(mod.KV.Value)
	}
	return fmt.Errorf("inventory: box %s records module %d, but the store binds that module to %s (key %s changed outside the inventory)",
		cur.Serial, cur.Module, holder, inv.ModuleKey(cur.Module))
}

func addressOf(s BoxSpec) string {
	if s.Address != "" {
		return s.Address
	}
	for _, p := range driver.Protocols {
		if a := s.Addresses[p]; a != "" {
			return a
		}
	}
	return ""
}
