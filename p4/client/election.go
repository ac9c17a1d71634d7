package client

import (
	"math/big"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// ElectionID is a 128-bit P4Runtime election ID. For each (device, role) the
// switch makes primary the client whose election ID is the highest it has
// ever seen (spec "Client Arbitration and Controller Replication").
type ElectionID struct {
	High uint64
	Low  uint64
}

// Less reports whether e is lower than o.
func (e ElectionID) Less(o ElectionID) bool {
	if e.High != o.High {
		return e.High < o.High
	}
	return e.Low < o.Low
}

// Inc returns e + 1. The maximum value has no successor: Inc returns it
// unchanged, so callers that need a strictly greater ID compare the result.
func (e ElectionID) Inc() ElectionID {
	switch {
	case e.Low != ^uint64(0):
		return ElectionID{High: e.High, Low: e.Low + 1}
	case e.High != ^uint64(0):
		return ElectionID{High: e.High + 1, Low: 0}
	}
	return e
}

// String formats the ID as a decimal number.
func (e ElectionID) String() string {
	if e.High == 0 {
		return new(big.Int).SetUint64(e.Low).String()
	}
	v := new(big.Int).SetUint64(e.High)
	v.Lsh(v, 64)
	v.Or(v, new(big.Int).SetUint64(e.Low))
	return v.String()
}

// Proto returns the ID as a p4.v1.Uint128.
func (e ElectionID) Proto() *p4v1.Uint128 { return &p4v1.Uint128{High: e.High, Low: e.Low} }

// electionIDFromProto converts a Uint128; ok is false when it is unset, which
// the spec distinguishes from zero (spec "Unset Election ID").
func electionIDFromProto(u *p4v1.Uint128) (id ElectionID, ok bool) {
	if u == nil {
		return ElectionID{}, false
	}
	return ElectionID{High: u.GetHigh(), Low: u.GetLow()}, true
}
