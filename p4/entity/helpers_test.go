package entity_test

import (
	"net"
	"sync"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/internal/p4infos"
	"github.com/p4fabric/fabric/p4/entity"
	"github.com/p4fabric/fabric/p4/schema"
)

// testFeatures is the P4Info written for this package's tests
// (testdata/features.p4info.txt): range matches, registers, value sets,
// keyless and const tables, SDN strings, @tableonly actions.
const testFeatures = "entity-features"

var (
	schemasMu sync.Mutex
	schemas   = map[string]*schema.Schema{}
)

// mustSchema loads an embedded P4Info (p4infos) or the package's own.
func mustSchema(t testing.TB, name string) *schema.Schema {
	t.Helper()
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if s := schemas[name]; s != nil {
		return s
	}
	var (
		s   *schema.Schema
		err error
	)
	if name == testFeatures {
		s, err = schema.Load("testdata/features.p4info.txt")
	} else {
		info, ierr := p4infos.Info(name)
		if ierr != nil {
			t.Fatalf("schema %s: %v", name, ierr)
		}
		s, err = schema.New(info)
	}
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	schemas[name] = s
	return s
}

func mustBuilder(t testing.TB, name string, opts ...entity.BuilderOption) *entity.Builder {
	t.Helper()
	return entity.NewBuilder(mustSchema(t, name), opts...)
}

// ent wraps the result of a builder method into an Entity.
func ent[M entity.Message](m M, err error) (*p4v1.Entity, error) {
	if err != nil {
		return nil, err
	}
	return entity.Wrap(m), nil
}

var mac1 = net.HardwareAddr{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
