package entity

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4fabric/fabric/p4/codec"
	"github.com/p4fabric/fabric/p4/schema"
)

// rfield is a match field resolved against the schema and encoded.
type rfield struct {
	v, m []byte // value and mask, or low and high
	idx  int32  // index in the key, P4Info order
	oi   int32  // the Field: matchGroup(opts, fields, oi)[fj]
	fj   int32
	kind schema.MatchKind
	plen int32
	omit bool // "don't care": left out of the entity
}

// Blocks that hold a FieldMatch with its oneof wrapper and inner message,
// so that a field costs one allocation.
type (
	exactBlock struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Exact_
		m  p4v1.FieldMatch_Exact
	}
	lpmBlock struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Lpm
		m  p4v1.FieldMatch_LPM
	}
	ternaryBlock struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Ternary_
		m  p4v1.FieldMatch_Ternary
	}
	rangeBlock struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Range_
		m  p4v1.FieldMatch_Range
	}
	optionalBlock struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Optional_
		m  p4v1.FieldMatch_Optional
	}
)

func kindName(k schema.MatchKind) string {
	switch k {
	case schema.Exact:
		return "exact"
	case schema.LPM:
		return "lpm"
	case schema.Ternary:
		return "ternary"
	case schema.Range:
		return "range"
	case schema.Optional:
		return "optional"
	}
	return strings.ToLower(k.String())
}

func helperName(k schema.MatchKind) string {
	switch k {
	case schema.Exact:
		return "Exact"
	case schema.LPM:
		return "LPM"
	case schema.Ternary:
		return "Ternary"
	case schema.Range:
		return "Range"
	case schema.Optional:
		return "Optional"
	}
	return "MatchText"
}

func article(s string) string {
	if s == "" {
		return "a"
	}
	switch s[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + s
	}
	if s == "lpm" {
		return "an LPM"
	}
	return "a " + s
}

// matchGroup returns the fields of the i-th Match option of opts, or
// fields itself when opts is nil (value set members). The two sources are
// kept apart (not in one struct) so that escape analysis keeps the
// caller's option values on its stack.
func matchGroup(opts []Option, fields []Field, i int) []Field {
	if opts == nil {
		return fields
	}
	if opts[i].kind != optMatch {
		return nil
	}
	return opts[i].fields
}

func matchGroups(opts []Option) int {
	if opts == nil {
		return 1
	}
	return len(opts)
}

// encodeMatch resolves and encodes the fields of a table entry or value
// set member. It returns the FieldMatch messages in P4Info order, without
// the "don't care" ones, and the buffer holding their values, with room
// for extra more bytes.
//
// buf, when it has room for every value, is used instead of a new buffer.
func (b *Builder) encodeMatch(ki *keyInfo, kind schema.Kind, obj string, opts []Option, fields []Field, requireExact bool, extra int, buf []byte) ([]*p4v1.FieldMatch, []byte, error) {
	var scratch [8]rfield
	rf := scratch[:0]
	n := 0
	for oi, ng := 0, matchGroups(opts); oi < ng; oi++ {
		n += len(matchGroup(opts, fields, oi))
	}
	if n > len(scratch) {
		rf = make([]rfield, 0, n)
	}
	size := extra
	for oi, ng := 0, matchGroups(opts); oi < ng; oi++ {
		group := matchGroup(opts, fields, oi)
		for fj := range group {
			in := &group[fj]
			idx, ok := ki.index(in.name)
			if !ok {
				return nil, nil, errAt(kind, obj, in.name, "", "", unknownField(ki, kind, obj, in.name))
			}
			fi := &ki.fields[idx]
			for j := range rf {
				if int(rf[j].idx) == idx {
					return nil, nil, errAt(kind, obj, fi.f.Name, "", "", errors.New("given twice"))
				}
			}
			fk := fi.f.Kind
			switch fk {
			case schema.Exact, schema.LPM, schema.Ternary, schema.Range, schema.Optional:
			default:
				return nil, nil, errAt(kind, obj, fi.f.Name, "", "", fmt.Errorf("match kind %q is not supported", fi.f.OtherKind))
			}
			switch {
			case in.dontCare:
				if fk == schema.Exact {
					return nil, nil, errAt(kind, obj, fi.f.Name, "", "", errors.New("an exact field has no \"don't care\" value"))
				}
			case in.text:
			case in.kind != fk:
				return nil, nil, errAt(kind, obj, fi.f.Name, "", "", fmt.Errorf("is %s field, not %s: use entity.%s (or entity.MatchText)",
					article(kindName(fk)), kindName(in.kind), helperName(fk)))
			}
			n := maxLen(&in.v, &fi.sp, b.pad)
			if fk == schema.Ternary || fk == schema.Range {
				n += max(maxLen(&in.m, &fi.sp, b.pad), (fi.sp.width+7)/8)
			}
			if in.text {
				n = 2*len(in.v.s) + 2*(fi.sp.width+7)/8
			}
			size += n
			rf = append(rf, rfield{idx: int32(idx), oi: int32(oi), fj: int32(fj), kind: fk})
		}
	}
	if requireExact && ki.exact > 0 {
		for i := range ki.fields {
			if ki.fields[i].f.Kind != schema.Exact {
				continue
			}
			found := false
			for j := range rf {
				if int(rf[j].idx) == i {
					found = true
					break
				}
			}
			if !found {
				return nil, nil, errAt(kind, obj, ki.fields[i].f.Name, "", "", errors.New("missing: an exact field must be given (it has no \"don't care\" value)"))
			}
		}
	}
	// P4Info order, for a canonical entity.
	for i := 1; i < len(rf); i++ {
		for j := i; j > 0 && rf[j].idx < rf[j-1].idx; j-- {
			rf[j], rf[j-1] = rf[j-1], rf[j]
		}
	}
	if cap(buf)-len(buf) < size {
		buf = make([]byte, 0, size)
	}
	var counts [5]int
	emitted := 0
	for i := range rf {
		r := &rf[i]
		fi := &ki.fields[r.idx]
		var err error
		buf, err = b.encodeField(buf, r, &matchGroup(opts, fields, int(r.oi))[r.fj], fi)
		if err != nil {
			return nil, nil, errAt(kind, obj, fi.f.Name, "", "", err)
		}
		if !r.omit {
			emitted++
			counts[kindSlot(r.kind)]++
		}
	}
	if emitted == 0 {
		return nil, buf, nil
	}
	var (
		out       []*p4v1.FieldMatch
		exacts    []exactBlock
		lpms      []lpmBlock
		ternaries []ternaryBlock
		ranges    []rangeBlock
		optionals []optionalBlock
	)
	if emitted == 1 {
		// The common single-field key: the pointer slice and the field's
		// messages in one allocation.
		switch {
		case counts[0] == 1:
			x := &oneBlock[exactBlock]{}
			out, exacts = x.ptr[:0], x.b[:]
		case counts[1] == 1:
			x := &oneBlock[lpmBlock]{}
			out, lpms = x.ptr[:0], x.b[:]
		case counts[2] == 1:
			x := &oneBlock[ternaryBlock]{}
			out, ternaries = x.ptr[:0], x.b[:]
		case counts[3] == 1:
			x := &oneBlock[rangeBlock]{}
			out, ranges = x.ptr[:0], x.b[:]
		default:
			x := &oneBlock[optionalBlock]{}
			out, optionals = x.ptr[:0], x.b[:]
		}
		counts = [5]int{}
	} else {
		out = make([]*p4v1.FieldMatch, 0, emitted)
	}
	if counts[0] > 0 {
		exacts = make([]exactBlock, counts[0])
	}
	if counts[1] > 0 {
		lpms = make([]lpmBlock, counts[1])
	}
	if counts[2] > 0 {
		ternaries = make([]ternaryBlock, counts[2])
	}
	if counts[3] > 0 {
		ranges = make([]rangeBlock, counts[3])
	}
	if counts[4] > 0 {
		optionals = make([]optionalBlock, counts[4])
	}
	var used [5]int
	for i := range rf {
		r := &rf[i]
		if r.omit {
			continue
		}
		id := ki.fields[r.idx].f.ID
		slot := kindSlot(r.kind)
		k := used[slot]
		used[slot]++
		switch r.kind {
		case schema.Exact:
			x := &exacts[k]
			x.m.Value = r.v
			x.w.Exact = &x.m
			x.fm.FieldId, x.fm.FieldMatchType = id, &x.w
			out = append(out, &x.fm)
		case schema.LPM:
			x := &lpms[k]
			x.m.Value, x.m.PrefixLen = r.v, r.plen
			x.w.Lpm = &x.m
			x.fm.FieldId, x.fm.FieldMatchType = id, &x.w
			out = append(out, &x.fm)
		case schema.Ternary:
			x := &ternaries[k]
			x.m.Value, x.m.Mask = r.v, r.m
			x.w.Ternary = &x.m
			x.fm.FieldId, x.fm.FieldMatchType = id, &x.w
			out = append(out, &x.fm)
		case schema.Range:
			x := &ranges[k]
			x.m.Low, x.m.High = r.v, r.m
			x.w.Range = &x.m
			x.fm.FieldId, x.fm.FieldMatchType = id, &x.w
			out = append(out, &x.fm)
		case schema.Optional:
			x := &optionals[k]
			x.m.Value = r.v
			x.w.Optional = &x.m
			x.fm.FieldId, x.fm.FieldMatchType = id, &x.w
			out = append(out, &x.fm)
		}
	}
	return out, buf, nil
}

// oneBlock holds the FieldMatch of a single-field key with its pointer
// slice.
type oneBlock[B any] struct {
	ptr [1]*p4v1.FieldMatch
	b   [1]B
}

func kindSlot(k schema.MatchKind) int {
	switch k {
	case schema.Exact:
		return 0
	case schema.LPM:
		return 1
	case schema.Ternary:
		return 2
	case schema.Range:
		return 3
	}
	return 4
}

func unknownField(ki *keyInfo, kind schema.Kind, obj, name string) error {
	names := make([]string, len(ki.fields))
	for i := range ki.fields {
		names[i] = ki.fields[i].f.Name
	}
	return &schema.LookupError{Kind: schema.KindMatchField, Name: strings.Clone(name), Scope: string(kind) + " " + obj, Candidates: names}
}

// put appends one value and returns the buffer and the value's bytes.
func (b *Builder) put(buf []byte, v *value, sp *spec) ([]byte, []byte, error) {
	start := len(buf)
	buf, err := appendValue(buf, v, sp, b.pad)
	if err != nil {
		return buf, nil, err
	}
	return buf, buf[start:len(buf):len(buf)], nil
}

// encodeField encodes one resolved field into r, applying the spec's
// "don't care" and normalisation rules.
func (b *Builder) encodeField(buf []byte, r *rfield, in *Field, fi *fieldInfo) ([]byte, error) {
	if in.dontCare {
		r.omit = true
		return buf, nil
	}
	sp := &fi.sp
	if in.text {
		return b.encodeText(buf, r, in.v.s, sp)
	}
	var err error
	switch r.kind {
	case schema.Exact, schema.Optional:
		buf, r.v, err = b.put(buf, &in.v, sp)
		return buf, err
	case schema.LPM:
		return b.encodeLPM(buf, r, sp, &in.v, in.plen)
	case schema.Ternary:
		if sp.str {
			return buf, errors.New("ternary match on an SDN string is not supported")
		}
		if buf, r.v, err = b.put(buf, &in.v, sp); err != nil {
			return buf, fmt.Errorf("value: %w", err)
		}
		if in.m.k == vNone {
			buf, r.m = b.fullMask(buf, sp.width)
		} else if buf, r.m, err = b.put(buf, &in.m, sp); err != nil {
			return buf, fmt.Errorf("mask: %w", err)
		}
		return buf, b.finishTernary(r, sp)
	case schema.Range:
		if sp.str {
			return buf, errors.New("range match on an SDN string is not supported")
		}
		if buf, r.v, err = b.put(buf, &in.v, sp); err != nil {
			return buf, fmt.Errorf("low: %w", err)
		}
		if buf, r.m, err = b.put(buf, &in.m, sp); err != nil {
			return buf, fmt.Errorf("high: %w", err)
		}
		return buf, b.finishRange(r, sp)
	}
	return buf, errors.New("unsupported match kind")
}

func (b *Builder) encodeLPM(buf []byte, r *rfield, sp *spec, v *value, plen int) ([]byte, error) {
	if sp.str {
		return buf, errors.New("LPM match on an SDN string is not supported")
	}
	switch plen {
	case -2:
		return buf, errors.New("negative prefix length")
	case -3:
		return buf, errors.New("more than one prefix length")
	}
	pv := *v
	if pv.k == vAny {
		switch x := pv.a.(type) {
		case netip.Prefix:
			pv = value{k: vPrefix, p: x}
		case string:
			pv = value{k: vText, s: x}
		}
	}
	switch {
	case pv.k == vPrefix:
		if plen >= 0 {
			return buf, errors.New("prefix length given twice (with the prefix and apart)")
		}
		if !pv.p.IsValid() {
			return buf, errors.New("invalid prefix")
		}
		plen = pv.p.Bits()
		a := pv.p.Addr()
		if b.strict && pv.p.Masked() != pv.p {
			return buf, fmt.Errorf("prefix %s has bits set past its length", pv.p.String())
		}
		narrow := sp.f == fmtIPv6 && sp.width < 128 && a.Is6()
		if !narrow && a.BitLen() != sp.width {
			return buf, fmt.Errorf("IPv%d prefix %s for bit<%d>", ipVersion(a), pv.p.String(), sp.width)
		}
		if narrow {
			if plen > sp.width {
				return buf, fmt.Errorf("prefix %s is longer than the %d bits the field holds", pv.p.String(), sp.width)
			}
			// The field holds the upper bits of the address: mask the
			// address first so that host bits below the field do not
			// count as an error.
			a = pv.p.Masked().Addr()
		}
		pv = value{k: vAddr, p: netip.PrefixFrom(a, a.BitLen())}
	case pv.k == vText:
		s := strings.TrimSpace(pv.s)
		if i := strings.LastIndexByte(s, '/'); i >= 0 {
			if plen >= 0 {
				return buf, errors.New("prefix length given twice (in the text and apart)")
			}
			n, err := strconv.Atoi(strings.TrimSpace(s[i+1:]))
			if err != nil || n < 0 {
				return buf, fmt.Errorf("invalid prefix length in %s", strconv.Quote(s))
			}
			plen = n
			pv = value{k: vText, s: s[:i]}
		}
	}
	if plen < 0 {
		plen = sp.width
	}
	if plen > sp.width {
		return buf, fmt.Errorf("prefix length %d is longer than bit<%d>", plen, sp.width)
	}
	var err error
	if buf, r.v, err = b.put(buf, &pv, sp); err != nil {
		return buf, err
	}
	r.plen = int32(plen)
	if plen == 0 {
		r.omit = true // "don't care"
		return buf, nil
	}
	if clearLow(r.v, sp.width-plen) {
		if b.strict {
			return buf, fmt.Errorf("value has bits set past the prefix length %d", plen)
		}
	}
	r.v = b.canon(r.v)
	return buf, nil
}

func (b *Builder) finishTernary(r *rfield, sp *spec) error {
	if isZero(r.m) {
		r.omit = true // "don't care"
		return nil
	}
	if andMask(r.v, r.m) && b.strict {
		return errors.New("value has bits set outside the mask")
	}
	r.v = b.canon(r.v)
	return nil
}

func (b *Builder) finishRange(r *rfield, sp *spec) error {
	if codec.Compare(r.v, r.m) > 0 {
		return errors.New("low bound is greater than the high bound")
	}
	if isZero(r.v) && isAllOnes(r.m, sp.width) {
		r.omit = true // the full range is "don't care"
	}
	return nil
}

// fullMask appends the mask of all bits of a bit<w> field.
func (b *Builder) fullMask(buf []byte, w int) ([]byte, []byte) {
	start := len(buf)
	n := (w + 7) / 8
	if r := w % 8; r != 0 {
		buf = append(buf, byte(1<<r)-1)
		n--
	}
	for ; n > 0; n-- {
		buf = append(buf, 0xff)
	}
	return buf, buf[start:len(buf):len(buf)]
}

// canon trims leading zero bytes unless values are padded.
func (b *Builder) canon(v []byte) []byte {
	if b.pad {
		return v
	}
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

// clearLow clears the low n bits of a big-endian value and reports
// whether any was set.
func clearLow(v []byte, n int) bool {
	changed := false
	for i := len(v) - 1; i >= 0 && n > 0; i-- {
		m := byte(0xff)
		if n < 8 {
			m = byte(1<<n) - 1
		}
		if v[i]&m != 0 {
			changed = true
			v[i] &^= m
		}
		n -= 8
	}
	return changed
}

// andMask clears the bits of v outside mask (both big-endian, aligned at
// the least significant byte) and reports whether any was set.
func andMask(v, mask []byte) bool {
	changed := false
	for i := 0; i < len(v); i++ {
		var m byte
		if j := len(mask) - 1 - i; j >= 0 {
			m = mask[j]
		}
		k := len(v) - 1 - i
		if v[k]&^m != 0 {
			changed = true
			v[k] &= m
		}
	}
	return changed
}

func isZero(v []byte) bool {
	for _, c := range v {
		if c != 0 {
			return false
		}
	}
	return true
}

// isAllOnes reports whether v is the largest bit<w> value.
func isAllOnes(v []byte, w int) bool {
	if codec.BitLen(v) != w {
		return false
	}
	ones := 0
	for _, c := range v {
		for ; c != 0; c &= c - 1 {
			ones++
		}
	}
	return ones == w
}

// encodeText parses MatchText by the field's match kind.
func (b *Builder) encodeText(buf []byte, r *rfield, text string, sp *spec) ([]byte, error) {
	s := strings.TrimSpace(text)
	if s == "*" && r.kind != schema.Exact {
		r.omit = true
		return buf, nil
	}
	var err error
	if sp.str {
		if r.kind != schema.Exact && r.kind != schema.Optional {
			return buf, fmt.Errorf("%s match on an SDN string is not supported", kindName(r.kind))
		}
		buf, r.v, err = b.put(buf, &value{k: vText, s: text}, sp)
		return buf, err
	}
	switch r.kind {
	case schema.Exact, schema.Optional:
		buf, r.v, err = b.put(buf, &value{k: vText, s: s}, sp)
		return buf, err
	case schema.LPM:
		return b.encodeLPM(buf, r, sp, &value{k: vText, s: s}, -1)
	case schema.Ternary:
		vs, ms, hasMask := strings.Cut(s, "&&&")
		plen := -1
		if !hasMask {
			if i := strings.LastIndexByte(s, '/'); i >= 0 {
				n, perr := strconv.Atoi(strings.TrimSpace(s[i+1:]))
				if perr != nil || n < 0 || n > sp.width {
					return buf, fmt.Errorf("invalid prefix length in %s", strconv.Quote(s))
				}
				vs, plen = s[:i], n
			}
		}
		if buf, r.v, err = b.put(buf, &value{k: vText, s: vs}, sp); err != nil {
			return buf, fmt.Errorf("value: %w", err)
		}
		switch {
		case hasMask:
			if buf, r.m, err = b.put(buf, &value{k: vText, s: ms}, sp); err != nil {
				return buf, fmt.Errorf("mask: %w", err)
			}
		case plen >= 0:
			buf, r.m = b.fullMask(buf, sp.width)
			clearLow(r.m, sp.width-plen)
			r.m = b.canon(r.m)
		default:
			buf, r.m = b.fullMask(buf, sp.width)
		}
		return buf, b.finishTernary(r, sp)
	case schema.Range:
		lo, hi, ok := strings.Cut(s, "..")
		if !ok {
			hi = lo
		}
		if buf, r.v, err = b.put(buf, &value{k: vText, s: lo}, sp); err != nil {
			return buf, fmt.Errorf("low: %w", err)
		}
		if buf, r.m, err = b.put(buf, &value{k: vText, s: hi}, sp); err != nil {
			return buf, fmt.Errorf("high: %w", err)
		}
		return buf, b.finishRange(r, sp)
	}
	return buf, errors.New("unsupported match kind")
}

func ipVersion(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}
