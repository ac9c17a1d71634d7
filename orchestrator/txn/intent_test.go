package txn_test

import (
	"testing"

	"github.com/p4fabric/fabric/orchestrator/goal"
	"github.com/p4fabric/fabric/orchestrator/txn"
	"github.com/p4fabric/fabric/pipeline/objective"
	"github.com/p4fabric/fabric/testbed/txntest"
)

// TestSameIntent: two goals are the same intent when their box and
// objectives are, however they were made (compiled apart, or decoded from
// the journal).
func TestSameIntent(t *testing.T) {
	b := txntest.StartBed(t, 2)
	v1, v1again, v2 := b.Compile(t, 1, routes), b.Compile(t, 1, routes), b.Compile(t, 1, routes+1)
	box, other := txntest.BoxName(1), txntest.BoxName(2)
	data, err := v1[box].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var decoded goal.Goal
	if err := decoded.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a, b *goal.Goal
		want bool
	}{
		{"compiled apart", v1[box], v1again[box], true},
		{"decoded from the journal", &decoded, v1[box], true},
		{"one more route", v1[box], v2[box], false},
		{"another box", v1[box], v1again[other], false},
		{"no objectives, nil and empty", &goal.Goal{Box: box}, &goal.Goal{Box: box, Objectives: objective.List{}}, true},
		{"nil goal", nil, v1[box], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := txn.SameIntent(tt.a, tt.b); got != tt.want {
				t.Errorf("SameIntent = %v, want %v", got, tt.want)
			}
			if got := txn.SameIntent(tt.b, tt.a); got != tt.want {
				t.Errorf("SameIntent (swapped) = %v, want %v", got, tt.want)
			}
		})
	}
}
