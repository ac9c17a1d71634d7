// Package p4infos embeds the P4Info files of the real programs Fabric is
// tested with (copied from shared/pipelines, each folder with its
// PROVENANCE.md and license) and a few written by hand for features the
// shipped programs lack. Tests of every layer load them from here so that
// one copy serves them all.
//
//	info, err := p4infos.Info("onos-basic")
//	s, err := schema.New(info)
package p4infos

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/encoding/prototext"
)

//go:embed */*.txt */PROVENANCE.md
var files embed.FS

// Names lists the embedded programs (folder names), sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Text returns the P4Info of a program in protobuf text format.
func Text(name string) ([]byte, error) {
	entries, err := fs.ReadDir(files, name)
	if err != nil {
		return nil, fmt.Errorf("p4infos: unknown program %q (have %s)", name, strings.Join(Names(), ", "))
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".txt") && !strings.HasPrefix(e.Name(), "LICENSE") {
			return files.ReadFile(path.Join(name, e.Name()))
		}
	}
	return nil, fmt.Errorf("p4infos: program %q has no P4Info", name)
}

// Info returns the decoded P4Info of a program.
func Info(name string) (*p4configv1.P4Info, error) {
	data, err := Text(name)
	if err != nil {
		return nil, err
	}
	info := &p4configv1.P4Info{}
	if err := prototext.Unmarshal(data, info); err != nil {
		return nil, fmt.Errorf("p4infos: %s: %w", name, err)
	}
	return info, nil
}

// MustInfo is Info for tests and examples with a known-good name; it panics
// on error, so library code never calls it.
func MustInfo(name string) *p4configv1.P4Info {
	info, err := Info(name)
	if err != nil {
		panic(err)
	}
	return info
}
