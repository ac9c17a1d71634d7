package objective

import "reflect"

// Value returns the objective a pointer points to (*Route → Route, ...),
// so that code switching on the kinds' value types also takes pointers;
// any other objective (a value, or a kind of another package) is returned
// as is, and a nil objective or nil pointer of any type as nil.
func Value(o Objective) Objective {
	switch x := o.(type) {
	case *L3Interface:
		if x != nil {
			return *x
		}
	case *Bridging:
		if x != nil {
			return *x
		}
	case *Route:
		if x != nil {
			return *x
		}
	case *NextHop:
		if x != nil {
			return *x
		}
	case *NextHopGroup:
		if x != nil {
			return *x
		}
	case *ACL:
		if x != nil {
			return *x
		}
	case *Multicast:
		if x != nil {
			return *x
		}
	case *Punt:
		if x != nil {
			return *x
		}
	default:
		if v := reflect.ValueOf(o); v.Kind() == reflect.Pointer && v.IsNil() {
			return nil
		}
		return o
	}
	return nil
}
