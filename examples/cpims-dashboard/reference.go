package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
)

// reference is what the mapping needs from Primero's configuration: the
// labels of its lookups and its location tree.
type reference struct {
	lookups   map[string][]primero.LookupValue // by lookup unique_id
	locations []placed
}

// placed is a location with the province and district above it (or
// itself), from the location tree, never from trimming codes.
type placed struct {
	loc                    *primero.Location
	name                   string
	provinceCode, province string
	districtCode, district string
}

// lookupTables says which spec table each Primero lookup fills.
var lookupTables = map[string]string{
	"sex_label":            "lookup-gender",
	"case_type_label":      "lookup-case-type",
	"placement_type_label": "lookup-placement-type",
	"service_type_label":   "lookup-service-type",
}

// loadReference reads every lookup and every location.
func loadReference(ctx context.Context, c *primero.Client) (*reference, error) {
	ref := &reference{lookups: map[string][]primero.LookupValue{}}
	for l, err := range c.Lookups.All(ctx) {
		if err != nil {
			return nil, fmt.Errorf("reading lookups: %w", err)
		}
		ref.lookups[l.UniqueID] = l.Values
	}
	byCode := map[string]*primero.Location{}
	var all []*primero.Location
	for l, err := range c.Locations.All(ctx) {
		if err != nil {
			return nil, fmt.Errorf("reading locations: %w", err)
		}
		byCode[l.Code] = l
		all = append(all, l)
	}
	for _, l := range all {
		p := placed{loc: l, name: placeName(l)}
		// The hierarchy lists the ancestors' codes, root first; the
		// location itself may or may not be among them.
		for _, code := range append(append([]string{}, l.Hierarchy...), l.Code) {
			a, ok := byCode[code]
			if !ok {
				continue
			}
			switch level(a) {
			case 1:
				p.provinceCode, p.province = a.Code, placeName(a)
			case 2:
				p.districtCode, p.district = a.Code, placeName(a)
			}
		}
		ref.locations = append(ref.locations, p)
	}
	return ref, nil
}

// level is 1 for a province and 2 for a district: by the location type
// when it says so, else by the admin level.
func level(l *primero.Location) int {
	switch strings.ToLower(l.Type) {
	case "province":
		return 1
	case "district":
		return 2
	}
	return l.AdminLevel
}

// placeName is the location's own name (placename; name holds the whole
// path on some Primero versions), in English.
func placeName(l *primero.Location) string {
	if s := l.Placename["en"]; s != "" {
		return s
	}
	return l.Name["en"]
}

// fill puts the lookups' labels and the location tree into the spec's
// tables named "filled at run time". A table whose lookup this Primero does
// not have stays empty, and its labels stay NULL.
func (ref *reference) fill(spec *mapping.Spec) {
	for i := range spec.Tables {
		t := &spec.Tables[i]
		if lookup, ok := lookupTables[t.Name]; ok {
			t.Entries = nil
			for _, v := range ref.lookups[lookup] {
				t.Entries = append(t.Entries, mapping.Entry{Key: v.ID, Value: v.DisplayText["en"]})
			}
			continue
		}
		var pick func(p placed) string
		switch t.Name {
		case "province_code":
			pick = func(p placed) string { return p.provinceCode }
		case "province_name":
			pick = func(p placed) string { return p.province }
		case "district_code":
			pick = func(p placed) string { return p.districtCode }
		case "district_name":
			pick = func(p placed) string { return p.district }
		default:
			continue
		}
		t.Entries = nil
		for _, p := range ref.locations {
			if v := pick(p); v != "" {
				t.Entries = append(t.Entries, mapping.Entry{Key: p.loc.Code, Value: v})
			}
		}
	}
}

// locationRows are the rows of the locations table.
func (ref *reference) locationRows(source string) []mapping.Record {
	rows := make([]mapping.Record, 0, len(ref.locations))
	for _, p := range ref.locations {
		rows = append(rows, mapping.Record{
			"source": source, "code": p.loc.Code, "name": p.name, "type": p.loc.Type,
			"admin_level": p.loc.AdminLevel, "disabled": p.loc.Disabled,
			"province_code": nonEmpty(p.provinceCode), "province": nonEmpty(p.province),
			"district_code": nonEmpty(p.districtCode), "district": nonEmpty(p.district),
		})
	}
	return rows
}

// nonEmpty is nil (NULL) for "".
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
