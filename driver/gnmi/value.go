package gnmi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/openconfig/gnmi/value"
	"google.golang.org/protobuf/types/known/anypb"
)

// ErrValue is wrapped by the errors of DecodeValue, EncodeValue and
// ParseValue.
var ErrValue = errors.New("invalid gNMI value")

// maxLeafListDepth bounds the nesting of leaf-list values DecodeValue
// follows; the specification allows only scalars inside a ScalarArray.
const maxLeafListDepth = 1

// DecodeValue returns the Go value a TypedValue carries:
//
//	string_val, ascii_val        string
//	int_val                      int64
//	uint_val                     uint64
//	bool_val                     bool
//	double_val, float_val        float64
//	decimal_val                  float64 (digits / 10^precision)
//	bytes_val, proto_bytes       []byte
//	leaflist_val                 []any of the above
//	json_val, json_ietf_val      the decoded JSON: nil, bool, string,
//	                             map[string]any, []any, and numbers as int64
//	                             when integral and in range, uint64 when
//	                             above math.MaxInt64, float64 otherwise
//	any_val                      *anypb.Any
//
// A nil TypedValue or one with no value set is an error.
func DecodeValue(tv *gpb.TypedValue) (any, error) {
	return decodeValue(tv, 0)
}

func decodeValue(tv *gpb.TypedValue, depth int) (any, error) {
	switch v := tv.GetValue().(type) {
	case nil:
		return nil, fmt.Errorf("%w: no value set", ErrValue)
	case *gpb.TypedValue_JsonVal:
		return decodeJSON(v.JsonVal)
	case *gpb.TypedValue_JsonIetfVal:
		return decodeJSON(v.JsonIetfVal)
	case *gpb.TypedValue_AsciiVal:
		return v.AsciiVal, nil
	case *gpb.TypedValue_AnyVal:
		if v.AnyVal == nil {
			return (*anypb.Any)(nil), nil
		}
		return v.AnyVal, nil
	case *gpb.TypedValue_ProtoBytes:
		return v.ProtoBytes, nil
	case *gpb.TypedValue_FloatVal: //nolint:staticcheck // old targets still send it
		return float64(v.FloatVal), nil //nolint:staticcheck
	case *gpb.TypedValue_DecimalVal: //nolint:staticcheck // old targets still send it
		d := v.DecimalVal //nolint:staticcheck
		return float64(d.GetDigits()) / math.Pow10(int(min(d.GetPrecision(), 400))), nil
	case *gpb.TypedValue_LeaflistVal:
		if depth >= maxLeafListDepth {
			return nil, fmt.Errorf("%w: leaf-list inside a leaf-list", ErrValue)
		}
		elems := v.LeaflistVal.GetElement()
		out := make([]any, 0, len(elems))
		for i, e := range elems {
			x, err := decodeValue(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("leaf-list element %d: %w", i, err)
			}
			out = append(out, x)
		}
		return out, nil
	}
	// string, int, uint, bool, double and bytes: openconfig/gnmi's value
	// package.
	x, err := value.ToScalar(tv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrValue, err)
	}
	return x, nil
}

// decodeJSON decodes one JSON value, keeping integers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: JSON: %v", ErrValue, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: JSON: trailing data after the value", ErrValue)
	}
	return convertNumbers(v), nil
}

// convertNumbers replaces json.Number values by int64, uint64 or float64.
func convertNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return numberValue(x)
	case map[string]any:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
	}
	return v
}

func numberValue(n json.Number) any {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of float64 range: keep the text rather than lose it.
		return s
	}
	return f
}

// EncodeValue returns v as a TypedValue in encoding enc:
//
//   - JSON and JSON_IETF: v is marshalled with encoding/json (a
//     json.RawMessage is used as it is, after checking that it is valid);
//   - PROTO: v must be a scalar (string, bool, signed and unsigned integers,
//     floats, []byte, or a []string or []any leaf-list of those), encoded by
//     openconfig/gnmi's value.FromScalar; floats become double_val.
//
// A *gpb.TypedValue is returned as it is, whatever enc says. Other encodings
// are an error.
func EncodeValue(v any, enc gpb.Encoding) (*gpb.TypedValue, error) {
	if tv, ok := v.(*gpb.TypedValue); ok {
		if tv == nil {
			return nil, fmt.Errorf("%w: nil TypedValue", ErrValue)
		}
		return tv, nil
	}
	switch enc {
	case gpb.Encoding_JSON, gpb.Encoding_JSON_IETF:
		var b []byte
		if raw, ok := v.(json.RawMessage); ok {
			if !json.Valid(raw) {
				return nil, fmt.Errorf("%w: invalid JSON %q", ErrValue, raw)
			}
			b = raw
		} else {
			var err error
			if b, err = json.Marshal(v); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrValue, err)
			}
		}
		if enc == gpb.Encoding_JSON_IETF {
			return &gpb.TypedValue{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: b}}, nil
		}
		return &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: b}}, nil
	case gpb.Encoding_PROTO:
		if f, ok := v.(float32); ok {
			v = float64(f)
		}
		tv, err := value.FromScalar(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrValue, err)
		}
		return tv, nil
	}
	return nil, fmt.Errorf("%w: encoding %v is not supported", ErrValue, enc)
}

// ParseValue turns text typed by a person (a command-line argument) into a
// TypedValue in encoding enc.
//
// For JSON and JSON_IETF, text that is valid JSON is sent as it is ("true",
// "1500", "\"eth1\"", "{\"enabled\":false}") and anything else as a JSON
// string, so that `description=uplink` needs no quotes. For PROTO the type is
// guessed: true/false is a bool, an integer is int_val when negative and
// uint_val otherwise, a number with a fraction or exponent is double_val, a
// JSON string ("\"42\"") is a string_val with the quotes removed, and
// anything else is a string_val as typed.
func ParseValue(text string, enc gpb.Encoding) (*gpb.TypedValue, error) {
	switch enc {
	case gpb.Encoding_JSON, gpb.Encoding_JSON_IETF:
		raw := json.RawMessage(text)
		if !json.Valid(raw) {
			b, err := json.Marshal(text)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrValue, err)
			}
			raw = b
		}
		return EncodeValue(raw, enc)
	case gpb.Encoding_PROTO:
		switch text {
		case "true":
			return &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: true}}, nil
		case "false":
			return &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: false}}, nil
		}
		if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			return &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: u}}, nil
		}
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return &gpb.TypedValue{Value: &gpb.TypedValue_IntVal{IntVal: i}}, nil
		}
		if strings.ContainsAny(text, "0123456789") {
			if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return &gpb.TypedValue{Value: &gpb.TypedValue_DoubleVal{DoubleVal: f}}, nil
			}
		}
		var s string
		if len(text) >= 2 && text[0] == '"' && json.Unmarshal([]byte(text), &s) == nil {
			text = s
		}
		return EncodeValue(text, gpb.Encoding_PROTO)
	}
	return nil, fmt.Errorf("%w: encoding %v is not supported", ErrValue, enc)
}

// ParseEncoding returns the encoding named s, case-insensitively: "json",
// "json_ietf" (or "json-ietf"), "proto", "bytes" or "ascii".
func ParseEncoding(s string) (gpb.Encoding, error) {
	name := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	if v, ok := gpb.Encoding_value[name]; ok {
		return gpb.Encoding(v), nil
	}
	return 0, fmt.Errorf("gnmi: unknown encoding %q (want json, json_ietf, proto, bytes or ascii)", s)
}
