package store

import (
	"bytes"
	"cmp"
	"fmt"
)

// CompareTarget is what a Compare looks at.
type CompareTarget uint8

// Compare targets.
const (
	// TargetValue compares the key's value (byte order).
	TargetValue CompareTarget = iota + 1
	// TargetVersion compares the key's version (0 for a missing key).
	TargetVersion
	// TargetModRevision compares the key's mod revision (0 for a missing key).
	TargetModRevision
	// TargetCreateRevision compares the key's create revision (0 for a
	// missing key).
	TargetCreateRevision
)

// String returns the target's name.
func (t CompareTarget) String() string {
	switch t {
	case TargetValue:
		return "value"
	case TargetVersion:
		return "version"
	case TargetModRevision:
		return "mod_revision"
	case TargetCreateRevision:
		return "create_revision"
	default:
		return fmt.Sprintf("CompareTarget(%d)", uint8(t))
	}
}

// CompareOp is how a Compare compares.
type CompareOp uint8

// Compare operators: the key's target is on the left, the Compare's operand
// on the right ("version < 3").
const (
	Equal CompareOp = iota + 1
	NotEqual
	Less
	Greater
)

// String returns "=", "!=", "<" or ">".
func (o CompareOp) String() string {
	switch o {
	case Equal:
		return "="
	case NotEqual:
		return "!="
	case Less:
		return "<"
	case Greater:
		return ">"
	default:
		return fmt.Sprintf("CompareOp(%d)", uint8(o))
	}
}

// Compare is one condition of a transaction on one key.
//
// A missing key has version, mod revision and create revision 0, so
// CompareVersion(k, Equal, 0) holds exactly when k is missing (see Missing).
// A value compare on a missing key never holds, whatever the operator: there
// is no value to compare (etcd's rule).
type Compare struct {
	// Key is the key compared.
	Key string
	// Target is the property of the key compared.
	Target CompareTarget
	// Op is the operator.
	Op CompareOp
	// Value is the operand of a TargetValue compare.
	Value []byte
	// Number is the operand of the other targets.
	Number int64
}

// CompareValue compares the key's value with value.
func CompareValue(key string, op CompareOp, value []byte) Compare {
	return Compare{Key: key, Target: TargetValue, Op: op, Value: value}
}

// CompareVersion compares the key's version with version.
func CompareVersion(key string, op CompareOp, version int64) Compare {
	return Compare{Key: key, Target: TargetVersion, Op: op, Number: version}
}

// CompareModRevision compares the key's mod revision with rev.
func CompareModRevision(key string, op CompareOp, rev int64) Compare {
	return Compare{Key: key, Target: TargetModRevision, Op: op, Number: rev}
}

// CompareCreateRevision compares the key's create revision with rev.
func CompareCreateRevision(key string, op CompareOp, rev int64) Compare {
	return Compare{Key: key, Target: TargetCreateRevision, Op: op, Number: rev}
}

// Exists holds when the key exists.
func Exists(key string) Compare { return CompareVersion(key, Greater, 0) }

// Missing holds when the key does not exist.
func Missing(key string) Compare { return CompareVersion(key, Equal, 0) }

// Holds evaluates c against the key's current state; found is false for a
// missing key. It is the reference semantics engines that evaluate compares
// themselves follow. An invalid Compare never holds.
func (c Compare) Holds(kv KeyValue, found bool) bool {
	var r int
	switch c.Target {
	case TargetValue:
		if !found {
			return false
		}
		r = bytes.Compare(kv.Value, c.Value)
	case TargetVersion, TargetModRevision, TargetCreateRevision:
		var have int64
		if found {
			switch c.Target {
			case TargetVersion:
				have = kv.Version
			case TargetModRevision:
				have = kv.ModRevision
			default:
				have = kv.CreateRevision
			}
		}
		r = cmp.Compare(have, c.Number)
	default:
		return false
	}
	switch c.Op {
	case Equal:
		return r == 0
	case NotEqual:
		return r != 0
	case Less:
		return r < 0
	case Greater:
		return r > 0
	default:
		return false
	}
}

// String renders the compare as "mod_revision("a/b") = 7".
func (c Compare) String() string {
	if c.Target == TargetValue {
		return fmt.Sprintf("value(%q) %s %q", c.Key, c.Op, c.Value)
	}
	return fmt.Sprintf("%s(%q) %s %d", c.Target, c.Key, c.Op, c.Number)
}

// Validate returns an error wrapping ErrInvalid, naming the key, if the
// compare's key, target or operator is invalid.
func (c Compare) Validate() error {
	if err := ValidKey(c.Key); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if c.Target < TargetValue || c.Target > TargetCreateRevision {
		return fmt.Errorf("compare on %q: unknown target %d: %w", c.Key, c.Target, ErrInvalid)
	}
	if c.Op < Equal || c.Op > Greater {
		return fmt.Errorf("compare on %q: unknown operator %d: %w", c.Key, c.Op, ErrInvalid)
	}
	return nil
}

// OpKind is what an Op does.
type OpKind uint8

// Operation kinds.
const (
	// KindPut sets a key.
	KindPut OpKind = iota + 1
	// KindDelete deletes a key.
	KindDelete
	// KindGet reads a key, seeing the writes of the operations before it.
	KindGet
)

// String returns "put", "delete" or "get".
func (k OpKind) String() string {
	switch k {
	case KindPut:
		return "put"
	case KindDelete:
		return "delete"
	case KindGet:
		return "get"
	default:
		return fmt.Sprintf("OpKind(%d)", uint8(k))
	}
}

// Op is one operation of a transaction branch.
type Op struct {
	// Kind is what the operation does.
	Kind OpKind
	// Key is the key it acts on.
	Key string
	// Value is the value a KindPut sets.
	Value []byte
	// Lease is the lease a KindPut attaches the key to, or NoLease.
	Lease LeaseID
}

// OpPut sets key to value; WithLease attaches it to a lease.
func OpPut(key string, value []byte, opts ...PutOption) Op {
	c := NewPutConfig(opts...)
	return Op{Kind: KindPut, Key: key, Value: value, Lease: c.Lease}
}

// OpDelete deletes key; deleting a missing key is not an error (see
// OpResult.Found).
func OpDelete(key string) Op { return Op{Kind: KindDelete, Key: key} }

// OpGet reads key into the transaction's result.
func OpGet(key string) Op { return Op{Kind: KindGet, Key: key} }

// Validate returns an error wrapping ErrInvalid, naming the key, if the
// operation is malformed.
func (o Op) Validate() error {
	if err := ValidKey(o.Key); err != nil {
		return fmt.Errorf("%s: %w", o.Kind, err)
	}
	if o.Kind < KindPut || o.Kind > KindGet {
		return fmt.Errorf("op on %q: unknown kind %d: %w", o.Key, o.Kind, ErrInvalid)
	}
	if o.Lease < 0 || (o.Lease != NoLease && o.Kind != KindPut) {
		return fmt.Errorf("%s %q: lease %d: %w", o.Kind, o.Key, o.Lease, ErrInvalid)
	}
	return nil
}

// Txn is a compare-and-swap transaction: if every compare of If holds, the
// operations of Then run, else those of Else; all of it atomically, and all
// writes at one new revision. An empty If always holds.
type Txn struct {
	If   []Compare
	Then []Op
	Else []Op
}

// Validate returns an error wrapping ErrInvalid if a compare or an
// operation is malformed, a list is longer than MaxTxnOps, or a branch
// writes (puts or deletes) one key twice.
func (t Txn) Validate() error {
	if len(t.If) > MaxTxnOps || len(t.Then) > MaxTxnOps || len(t.Else) > MaxTxnOps {
		return fmt.Errorf("txn with %d compares, %d then and %d else ops, more than %d: %w",
			len(t.If), len(t.Then), len(t.Else), MaxTxnOps, ErrInvalid)
	}
	for _, c := range t.If {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("txn: %w", err)
		}
	}
	for _, branch := range [][]Op{t.Then, t.Else} {
		written := make(map[string]bool, len(branch))
		for _, o := range branch {
			if err := o.Validate(); err != nil {
				return fmt.Errorf("txn: %w", err)
			}
			if o.Kind == KindGet {
				continue
			}
			if written[o.Key] {
				return fmt.Errorf("txn: key %q written twice in one branch: %w", o.Key, ErrInvalid)
			}
			written[o.Key] = true
		}
	}
	return nil
}

// OpResult is the outcome of one operation of the branch a transaction ran.
type OpResult struct {
	// KV is the key read by a KindGet, when Found.
	KV KeyValue
	// Found reports, for a KindGet, that the key exists and, for a
	// KindDelete, that it existed and was deleted. It is false for a
	// KindPut.
	Found bool
}

// TxnResult is the outcome of a transaction.
type TxnResult struct {
	// Succeeded reports that every compare held and Then ran; otherwise
	// Else ran.
	Succeeded bool
	// Revision is the store revision after the transaction: the revision
	// of its writes, if it wrote anything.
	Revision int64
	// Results has one entry per operation of the branch that ran, in order.
	Results []OpResult
}
