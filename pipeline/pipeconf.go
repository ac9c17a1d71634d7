package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4fabric/fabric/p4/schema"
)

// Targets a pipeconf carries device configs for. Other names (a Tofino
// target, a vendor's) are free-form.
const (
	// TargetBMv2 is the bmv2 JSON that p4c-bm2-ss produces, for
	// simple_switch_grpc.
	TargetBMv2 = "bmv2"
	// TargetEmulated is the testbed's emulated switch, which takes any
	// device config: the bmv2 JSON when the program has one (so that the
	// emulator may one day run it), else the pipeconf ID.
	TargetEmulated = "emulated"
)

// Pipeconf is a P4 program as a controller deploys it: its P4Info (as a
// Schema), the device configs of the targets it was compiled for, the
// pipeliner that translates objectives into its entities, and the device
// options the pipeliner needs.
//
// A Pipeconf is a plain value; a loaded or registered one is shared, so
// do not modify it (copy it to change a field).
type Pipeconf struct {
	// ID names the pipeconf ("onos-basic", "fabric-v1model",
	// "sai-middleblock"); it is also the program the pipeliner writes for.
	ID string
	// Schema indexes the P4Info.
	Schema *schema.Schema
	// DeviceConfigs maps a target (TargetBMv2, TargetEmulated, ...) to
	// its device config, the p4_device_config of
	// SetForwardingPipelineConfig.
	DeviceConfigs map[string][]byte
	// Constructor builds the program's pipeliner; nil when there is none
	// (the pipeconf can be pushed, but objectives cannot be translated).
	Constructor NewPipeliner
	// Options are the default device options, from cpu_port.txt when the
	// folder has one.
	Options DeviceOptions
	// Provenance tells where the program comes from (the folder's
	// PROVENANCE.md), and License is its license text, when known.
	Provenance string
	License    string
}

// ErrNoPipeliner is returned by Pipeconf.Pipeliner for a pipeconf without
// a pipeliner; ErrNoDeviceConfig by DeviceConfig for a target the
// pipeconf has no config for.
var (
	ErrNoPipeliner    = errors.New("pipeconf has no pipeliner")
	ErrNoDeviceConfig = errors.New("pipeconf has no device config for the target")
)

// Pipeliner builds the pipeconf's pipeliner with its default device
// options.
func (p *Pipeconf) Pipeliner() (Pipeliner, error) { return p.PipelinerFor(p.Options) }

// PipelinerFor builds the pipeconf's pipeliner for a device with opts.
func (p *Pipeconf) PipelinerFor(opts DeviceOptions) (Pipeliner, error) {
	if p == nil || p.Constructor == nil {
		return nil, fmt.Errorf("pipeconf %q: %w", p.id(), ErrNoPipeliner)
	}
	if p.Schema == nil {
		return nil, fmt.Errorf("pipeconf %q: no schema", p.id())
	}
	pl, err := p.Constructor(p.Schema, opts)
	if err != nil {
		return nil, fmt.Errorf("pipeconf %q: pipeliner: %w", p.id(), err)
	}
	return pl, nil
}

func (p *Pipeconf) id() string {
	if p == nil {
		return ""
	}
	return p.ID
}

// Targets returns the targets the pipeconf has device configs for,
// sorted.
func (p *Pipeconf) Targets() []string {
	out := make([]string, 0, len(p.DeviceConfigs))
	for t := range p.DeviceConfigs {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// DeviceConfig returns the device config for a target, or an error
// wrapping ErrNoDeviceConfig that lists the targets there are.
func (p *Pipeconf) DeviceConfig(target string) ([]byte, error) {
	if c, ok := p.DeviceConfigs[target]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("pipeconf %q: target %q: %w (have %s)", p.ID, target, ErrNoDeviceConfig, strings.Join(p.Targets(), ", "))
}

// Cookie identifies the pipeconf's content: a hash of its P4Info and the
// target's device config, for SetForwardingPipelineConfig's cookie, so
// that a controller can tell whether a device already runs it.
func (p *Pipeconf) Cookie(target string) uint64 {
	h := fnv.New64a()
	if p.Schema != nil {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(p.Schema.P4Info())
		h.Write(b)
	}
	h.Write([]byte{0})
	h.Write(p.DeviceConfigs[target])
	return h.Sum64()
}

// ForwardingPipelineConfig returns the config to push to a target: the
// P4Info, the target's device config and the Cookie.
func (p *Pipeconf) ForwardingPipelineConfig(target string) (*p4v1.ForwardingPipelineConfig, error) {
	if p.Schema == nil {
		return nil, fmt.Errorf("pipeconf %q: no schema", p.ID)
	}
	cfg, err := p.DeviceConfig(target)
	if err != nil {
		return nil, err
	}
	return &p4v1.ForwardingPipelineConfig{
		P4Info:         p.Schema.P4Info(),
		P4DeviceConfig: cfg,
		Cookie:         &p4v1.ForwardingPipelineConfig_Cookie{Cookie: p.Cookie(target)},
	}, nil
}

// LoadOption configures Load and LoadFS.
type LoadOption func(*loadConfig)

type loadConfig struct {
	id      string
	newPl   NewPipeliner
	devOpts *DeviceOptions
	configs map[string][]byte
}

// WithID sets the pipeconf ID (by default the folder's name).
func WithID(id string) LoadOption { return func(c *loadConfig) { c.id = id } }

// WithPipeliner sets the pipeconf's pipeliner constructor.
func WithPipeliner(n NewPipeliner) LoadOption { return func(c *loadConfig) { c.newPl = n } }

// WithDeviceOptions sets the default device options, overriding what the
// folder says (cpu_port.txt).
func WithDeviceOptions(o DeviceOptions) LoadOption {
	return func(c *loadConfig) { c.devOpts = &o }
}

// WithDeviceConfig adds (or replaces) the device config of a target.
func WithDeviceConfig(target string, config []byte) LoadOption {
	return func(c *loadConfig) {
		if c.configs == nil {
			c.configs = map[string][]byte{}
		}
		c.configs[target] = config
	}
}

// Load reads a pipeconf from a folder (see LoadFS for what it holds). The
// ID is the folder's name unless WithID says otherwise.
func Load(dir string, opts ...LoadOption) (*Pipeconf, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pipeconf %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("pipeconf: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("pipeconf: %s is not a folder", dir)
	}
	return LoadFS(os.DirFS(abs), ".", append([]LoadOption{WithID(filepath.Base(abs))}, opts...)...)
}

// LoadFS reads a pipeconf from a folder of fsys (embedded files, for
// built-in pipeconfs). The folder holds:
//
//   - exactly one P4Info: a file whose name contains "p4info", in text
//     (.txt, .pbtxt, .pb.txt), binary (.pb, .bin) or JSON (.json) format;
//   - optionally the bmv2 JSON (any other .json file; bmv2.json when
//     there are several), the device config of TargetBMv2;
//   - optionally cpu_port.txt, the CPU port in decimal (DeviceOptions);
//   - optionally PROVENANCE.md and a LICENSE file.
//
// Other files (P4 sources, ...) are ignored. TargetEmulated gets the
// bmv2 JSON, or the ID when there is none. The ID is the folder's name
// unless WithID says otherwise.
func LoadFS(fsys fs.FS, dir string, opts ...LoadOption) (*Pipeconf, error) {
	cfg := loadConfig{}
	if dir != "." && dir != "" {
		cfg.id = path.Base(dir)
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	name := cfg.id
	if name == "" {
		name = dir
	}
	fail := func(format string, args ...any) (*Pipeconf, error) {
		return nil, fmt.Errorf("pipeconf %s: %s", name, fmt.Sprintf(format, args...))
	}
	if fsys == nil {
		return fail("no file system")
	}
	if cfg.id == "" {
		return fail("no ID (use WithID)")
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("pipeconf %s: %w", name, err)
	}
	var p4infos, jsons []string
	var cpuPort, provenance, license string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		n := e.Name()
		lower := strings.ToLower(n)
		switch {
		case strings.Contains(lower, "p4info") && isP4InfoExt(lower):
			p4infos = append(p4infos, n)
		case strings.HasSuffix(lower, ".json"):
			jsons = append(jsons, n)
		case lower == "cpu_port.txt":
			cpuPort = n
		case strings.HasPrefix(lower, "provenance"):
			provenance = n
		case strings.HasPrefix(lower, "license") || strings.HasPrefix(lower, "copying"):
			license = n
		}
	}
	switch len(p4infos) {
	case 0:
		return fail("no P4Info in %s (want a file named *p4info*.txt, .pb or .json)", dir)
	case 1:
	default:
		return fail("several P4Infos in %s: %s", dir, strings.Join(p4infos, ", "))
	}
	read := func(n string) ([]byte, error) {
		b, err := fs.ReadFile(fsys, path.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("pipeconf %s: %w", name, err)
		}
		return b, nil
	}
	data, err := read(p4infos[0])
	if err != nil {
		return nil, err
	}
	s, err := schema.Parse(data, schema.FormatOf(p4infos[0]))
	if err != nil {
		return nil, fmt.Errorf("pipeconf %s: %s: %w", name, p4infos[0], err)
	}
	pc := &Pipeconf{ID: cfg.id, Schema: s, DeviceConfigs: map[string][]byte{}, Constructor: cfg.newPl}

	if bmv2 := pickBMv2(jsons); bmv2 != "" {
		b, err := read(bmv2)
		if err != nil {
			return nil, err
		}
		if !json.Valid(b) {
			return fail("%s is not valid JSON", bmv2)
		}
		pc.DeviceConfigs[TargetBMv2] = b
		pc.DeviceConfigs[TargetEmulated] = b
	} else if len(jsons) > 1 {
		return fail("several JSON files and none named bmv2.json: %s", strings.Join(jsons, ", "))
	} else {
		pc.DeviceConfigs[TargetEmulated] = []byte(cfg.id)
	}
	if cpuPort != "" {
		b, err := read(cpuPort)
		if err != nil {
			return nil, err
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if err != nil {
			return fail("%s: CPU port %q is not a number", cpuPort, strings.TrimSpace(string(b)))
		}
		pc.Options.CPUPort = uint32(v)
	}
	if cfg.devOpts != nil {
		pc.Options = *cfg.devOpts
	}
	if provenance != "" {
		b, err := read(provenance)
		if err != nil {
			return nil, err
		}
		pc.Provenance = string(b)
	}
	if license != "" {
		b, err := read(license)
		if err != nil {
			return nil, err
		}
		pc.License = string(b)
	}
	for t, c := range cfg.configs {
		pc.DeviceConfigs[t] = c
	}
	return pc, nil
}

func isP4InfoExt(lower string) bool {
	for _, ext := range []string{".txt", ".pbtxt", ".pb", ".bin", ".json"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// pickBMv2 returns the bmv2 JSON among the folder's other JSON files.
func pickBMv2(jsons []string) string {
	switch len(jsons) {
	case 0:
		return ""
	case 1:
		return jsons[0]
	}
	for _, n := range jsons {
		if strings.EqualFold(n, "bmv2.json") {
			return n
		}
	}
	return ""
}

// HashID derives a non-zero object ID of bits bits (1 to 32) from a
// name, for pipeliners that must number next hops, groups or members
// without keeping state: the same name in the same namespace always gives
// the same ID. Different names may collide (as any hash); State reports a
// collision as a conflict between the two objectives.
func HashID(namespace, name string, bits int) uint32 {
	// FNV-1a, 64 bits, inline: no allocation.
	const offset, prime = 14695981039346656037, 1099511628211
	v := uint64(offset)
	for i := 0; i < len(namespace); i++ {
		v = (v ^ uint64(namespace[i])) * prime
	}
	v *= prime // the separator byte 0
	for i := 0; i < len(name); i++ {
		v = (v ^ uint64(name[i])) * prime
	}
	bits = max(1, min(bits, 32))
	limit := uint64(1)<<bits - 1 // IDs 1..limit
	if limit == 1 {
		return 1
	}
	return uint32(v%limit) + 1
}
