package discordtest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

func (d *specDoc) resolve(s any) map[string]any {
	m, _ := s.(map[string]any)
	for i := 0; m != nil && i < 16; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		m, _ = d.schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
	return m
}

// objectShape merges properties and required names of a schema, following allOf.
func (d *specDoc) objectShape(m map[string]any) (props map[string]any, required []string, ok bool) {
	props = map[string]any{}
	if p, isMap := m["properties"].(map[string]any); isMap {
		for k, v := range p {
			props[k] = v
		}
		ok = true
	}
	if r, isList := m["required"].([]any); isList {
		for _, x := range r {
			if s, isStr := x.(string); isStr {
				required = append(required, s)
			}
		}
	}
	if all, isList := m["allOf"].([]any); isList {
		for _, part := range all {
			pp, rr, pok := d.objectShape(d.resolve(part))
			if pok {
				ok = true
			}
			for k, v := range pp {
				props[k] = v
			}
			required = append(required, rr...)
		}
	}
	return props, required, ok
}

// allowedTypes lists the JSON types a schema accepts; nil means anything.
func (d *specDoc) allowedTypes(m map[string]any, depth int) map[string]bool {
	if m == nil || depth > 8 {
		return nil
	}
	switch t := m["type"].(type) {
	case string:
		return map[string]bool{t: true}
	case []any:
		set := map[string]bool{}
		for _, x := range t {
			if s, ok := x.(string); ok {
				set[s] = true
			}
		}
		return set
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if vs, ok := m[key].([]any); ok {
			set := map[string]bool{}
			for _, v := range vs {
				sub := d.allowedTypes(d.resolve(v), depth+1)
				if sub == nil {
					return nil
				}
				for k := range sub {
					set[k] = true
				}
			}
			return set
		}
	}
	if vs, ok := m["allOf"].([]any); ok {
		for _, v := range vs {
			if sub := d.allowedTypes(d.resolve(v), depth+1); sub != nil {
				return sub
			}
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func isInteger(v any) bool {
	switch n := v.(type) {
	case json.Number:
		return !strings.ContainsAny(string(n), ".eE")
	case float64:
		return n == float64(int64(n))
	}
	return false
}

func typeOK(v any, allowed map[string]bool) bool {
	if allowed == nil {
		return true
	}
	jt := jsonType(v)
	if jt == "number" {
		return allowed["number"] || (allowed["integer"] && isInteger(v))
	}
	if s, ok := v.(string); ok && !allowed["string"] && (allowed["integer"] || allowed["number"]) {
		// Discord coerces numeric strings (discordgo sends 64-bit
		// integers such as permissions as strings); only a failed
		// coercion is NUMBER_TYPE_COERCE.
		return numericRE.MatchString(s)
	}
	return allowed[jt]
}

var numericRE = regexp.MustCompile(`^-?[0-9]{1,20}$`)

func typeError(allowed map[string]bool, v any) fieldErrors {
	switch {
	case allowed["object"]:
		return leafError("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
	case allowed["array"]:
		return leafError("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
	case allowed["integer"]:
		return leafError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value \"%v\" is not int.", v))
	case allowed["number"]:
		return leafError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value \"%v\" is not a number.", v))
	case allowed["boolean"]:
		return leafError("BOOLEAN_TYPE_CONVERT", fmt.Sprintf("Value \"%v\" is not bool.", v))
	case allowed["string"]:
		return leafError("BASE_TYPE_BAD_TYPE", "Must be a string.")
	}
	return leafError("BASE_TYPE_BAD_TYPE", "Bad type.")
}

// maxValidateDepth bounds how far into a body the validator looks: the
// top-level properties and, for nested objects such as an interaction
// callback's "data", their properties. Deeper structures are not checked.
const maxValidateDepth = 2

// validate checks a decoded JSON value against a schema and returns Discord's error tree.
func (d *specDoc) validate(v any, schema any, depth int) fieldErrors {
	m := d.resolve(schema)
	if m == nil {
		return nil
	}
	allowed := d.allowedTypes(m, 0)
	if !typeOK(v, allowed) {
		return typeError(allowed, v)
	}
	if v == nil {
		return nil
	}
	// Constraints that sit on the schema itself or on the union member of the value's type.
	for _, c := range d.candidates(m, jsonType(v), v) {
		if e := d.scalarConstraints(v, c); e != nil {
			return e
		}
	}
	switch val := v.(type) {
	case map[string]any:
		if depth > maxValidateDepth {
			return nil
		}
		objs := d.objectCandidates(m)
		if len(objs) == 0 {
			return nil
		}
		var best fieldErrors
		for _, o := range objs {
			e := d.validateObject(val, o, depth)
			if e == nil {
				return nil
			}
			if best == nil || unionScore(e) < unionScore(best) {
				best = e
			}
		}
		return best
	case []any:
		if depth > 0 {
			return nil
		}
		items := d.resolve(m["items"])
		if items == nil {
			return nil
		}
		errs := fieldErrors{}
		for i, it := range val {
			if e := d.validate(it, items, depth+1); e != nil {
				errs[strconv.Itoa(i)] = e
			}
		}
		if len(errs) > 0 {
			return errs
		}
	}
	return nil
}

// candidates returns the schema and the union members that accept the value's JSON type.
func (d *specDoc) candidates(m map[string]any, jt string, v any) []map[string]any {
	out := []map[string]any{m}
	for _, key := range []string{"oneOf", "anyOf"} {
		vs, _ := m[key].([]any)
		for _, x := range vs {
			r := d.resolve(x)
			if typeOK(v, d.allowedTypes(r, 0)) && jt != "object" {
				out = append(out, r)
			}
		}
	}
	return out
}

func (d *specDoc) scalarConstraints(v any, m map[string]any) fieldErrors {
	if enum, ok := m["enum"].([]any); ok && jsonType(v) != "object" && jsonType(v) != "array" {
		found := false
		var names []string
		for _, e := range enum {
			names = append(names, fmt.Sprint(specScalar(e)))
			if specScalar(e) == fmt.Sprint(specScalar(v)) {
				found = true
			}
		}
		if !found {
			return leafError("BASE_TYPE_CHOICES", fmt.Sprintf("Value must be one of {%s}.", strings.Join(names, ", ")))
		}
	}
	switch val := v.(type) {
	case string:
		n := utf8.RuneCountInString(val)
		if max, ok := m["maxLength"].(float64); ok && float64(n) > max {
			return leafError("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", int(max)))
		}
		if min, ok := m["minLength"].(float64); ok && float64(n) < min {
			return leafError("BASE_TYPE_MIN_LENGTH", fmt.Sprintf("Must be %d or more in length.", int(min)))
		}
		if m["format"] == "snowflake" && !snowflakeRE.MatchString(val) {
			return leafError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not snowflake.", val))
		}
	case []any:
		if max, ok := m["maxItems"].(float64); ok && float64(len(val)) > max {
			return leafError("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", int(max)))
		}
		if min, ok := m["minItems"].(float64); ok && float64(len(val)) < min {
			return leafError("BASE_TYPE_MIN_LENGTH", fmt.Sprintf("Must be %d or more in length.", int(min)))
		}
	}
	return nil
}

func specScalar(v any) string {
	switch n := v.(type) {
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	case json.Number:
		return string(n)
	}
	return fmt.Sprint(v)
}

// objectCandidates returns the object schemas a value may match (the schema
// itself, or the object members of a oneOf/anyOf union).
func (d *specDoc) objectCandidates(m map[string]any) []map[string]any {
	if _, _, ok := d.objectShape(m); ok {
		return []map[string]any{m}
	}
	var out []map[string]any
	for _, key := range []string{"oneOf", "anyOf"} {
		vs, _ := m[key].([]any)
		for _, x := range vs {
			r := d.resolve(x)
			if _, _, ok := d.objectShape(r); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

func (d *specDoc) validateObject(obj map[string]any, m map[string]any, depth int) fieldErrors {
	props, required, _ := d.objectShape(m)
	errs := fieldErrors{}
	for _, r := range required {
		if _, ok := obj[r]; !ok {
			errs[r] = leafError("BASE_TYPE_REQUIRED", "This field is required")
		}
	}
	for k, v := range obj {
		ps, ok := props[k]
		if !ok {
			continue // Discord ignores unknown fields
		}
		if e := d.validate(v, ps, depth+1); e != nil {
			errs[k] = e
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// unionScore ranks a union member's errors: members whose discriminator
// ("type") matched are the ones the caller meant.
func unionScore(e fieldErrors) int {
	n := countErrors(e)
	if _, bad := e["type"]; bad {
		n += 1000
	}
	return n
}

func countErrors(e fieldErrors) int {
	n := 0
	for k, v := range e {
		if k == "_errors" {
			n++
			continue
		}
		if sub, ok := v.(fieldErrors); ok {
			n += countErrors(sub)
		}
	}
	return n
}

// checkQuery validates the query parameters an operation declares
// (snowflakes, integers and their bounds, booleans, string lengths).
// Undeclared parameters are ignored, as Discord does.
func (d *specDoc) checkQuery(op *operation, q url.Values) fieldErrors {
	errs := fieldErrors{}
	for name, vs := range q {
		schema, declared := op.query[name]
		if !declared || len(vs) == 0 {
			continue
		}
		if e := d.checkQueryValue(d.resolve(schema), vs[len(vs)-1]); e != nil {
			errs[name] = e
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (d *specDoc) checkQueryValue(m map[string]any, v string) fieldErrors {
	if m == nil || m["oneOf"] != nil || m["anyOf"] != nil {
		return nil // e.g. sku_ids: a comma-separated string or a list
	}
	switch m["type"] {
	case "boolean":
		switch v {
		case "true", "True", "1", "false", "False", "0":
			return nil
		}
		return leafError("BOOLEAN_TYPE_CONVERT", fmt.Sprintf("Value %q is not bool.", v))
	case "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return leafError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not int.", v))
		}
		if min, ok := m["minimum"].(float64); ok && float64(n) < min {
			return leafError("NUMBER_TYPE_MIN", fmt.Sprintf("int value should be greater than or equal to %d.", int64(min)))
		}
		if max, ok := m["maximum"].(float64); ok && float64(n) > max {
			return leafError("NUMBER_TYPE_MAX", fmt.Sprintf("int value should be less than or equal to %d.", int64(max)))
		}
	case "string":
		return d.scalarConstraints(v, m)
	}
	return nil
}
