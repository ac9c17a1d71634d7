package roleconfig_test

import (
	"testing"

	"github.com/p4fabric/fabric/p4/roleconfig"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestTypeURLIsStratums(t *testing.T) {
	a, err := anypb.New(&roleconfig.P4RoleConfig{CanPushPipeline: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.GetTypeUrl() != roleconfig.TypeURL || roleconfig.TypeURL != "type.googleapis.com/stratum.P4RoleConfig" {
		t.Fatalf("type URL %q, const %q", a.GetTypeUrl(), roleconfig.TypeURL)
	}
}

// TestWireFormatMatchesStratum checks the field numbers against Stratum's
// definition by building the wire bytes by hand.
func TestWireFormatMatchesStratum(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType) // packed repeated uint32 exclusive_p4_ids = 1
	b = protowire.AppendBytes(b, protowire.AppendVarint(nil, 7))
	b = protowire.AppendTag(b, 2, protowire.BytesType) // shared_p4_ids = 2
	b = protowire.AppendBytes(b, protowire.AppendVarint(nil, 8))
	var f []byte
	f = protowire.AppendTag(f, 1, protowire.VarintType) // metadata_id = 1
	f = protowire.AppendVarint(f, 1)
	f = protowire.AppendTag(f, 2, protowire.BytesType) // value = 2
	f = protowire.AppendBytes(f, []byte{0x2a})
	b = protowire.AppendTag(b, 3, protowire.BytesType) // packet_in_filter = 3
	b = protowire.AppendBytes(b, f)
	b = protowire.AppendTag(b, 4, protowire.VarintType) // receives_packet_ins = 4
	b = protowire.AppendVarint(b, 1)
	b = protowire.AppendTag(b, 5, protowire.VarintType) // can_push_pipeline = 5
	b = protowire.AppendVarint(b, 1)

	got := &roleconfig.P4RoleConfig{}
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	want := &roleconfig.P4RoleConfig{
		ExclusiveP4Ids:    []uint32{7},
		SharedP4Ids:       []uint32{8},
		PacketInFilter:    &roleconfig.P4RoleConfig_PacketFilter{MetadataId: 1, Value: []byte{0x2a}},
		ReceivesPacketIns: true,
		CanPushPipeline:   true,
	}
	if !proto.Equal(got, want) {
		t.Fatalf("decoded %v, want %v", got, want)
	}
}
