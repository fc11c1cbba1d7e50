package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// canonicalPolicy is the normalized form the policy hash is computed over:
// every set is sorted, every optional part explicit. Two policies with the
// same meaning have the same canonical form.
type canonicalPolicy struct {
	ID             string    `json:"id"`
	Version        string    `json:"version"`
	Purpose        string    `json:"purpose"`
	Sender         Party     `json:"sender"`
	Receivers      []Party   `json:"receivers"`
	Consent        []string  `json:"consent"`
	RevokedField   string    `json:"revoked_field"`
	TrueValues     []string  `json:"true_values"`
	FalseValues    []string  `json:"false_values"`
	DateOfBirth    string    `json:"date_of_birth"`
	Age            string    `json:"age"`
	Assent         []cAssent `json:"assent"`
	ServiceField   string    `json:"service_field"`
	ServiceAllowed []string  `json:"service_allowed"`
	Fields         []string  `json:"fields"`
	Override       bool      `json:"override"`
	OverrideReason []string  `json:"override_reasons"`
	Revocation     string    `json:"revocation"`
}

type cAssent struct {
	Under   int      `json:"under"`
	Require []string `json:"require"`
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func pathOf(f *condField) string {
	if f == nil {
		return ""
	}
	return f.path
}

// canonicalHash returns "sha256:" + hex SHA-256 of the canonical JSON form.
func canonicalHash(p *Policy) string {
	cp := canonicalPolicy{
		ID: p.id, Version: p.version, Purpose: p.purpose, Sender: p.sender,
		Receivers:      slices.Clone(p.receivers),
		Consent:        slices.Sorted(slices.Values(p.ConsentFields())),
		RevokedField:   pathOf(p.revoked),
		TrueValues:     sortedKeys(p.trueValues),
		FalseValues:    sortedKeys(p.falseValues),
		DateOfBirth:    pathOf(p.dob),
		Age:            pathOf(p.age),
		ServiceField:   pathOf(p.serviceField),
		ServiceAllowed: sortedKeys(p.serviceAllowed),
		Fields:         slices.Sorted(slices.Values(p.fieldList)),
		Override:       p.overridePermitted,
		OverrideReason: sortedKeys(p.overrideReasons),
		Revocation:     string(p.revocation),
	}
	slices.SortFunc(cp.Receivers, func(a, b Party) int { return strings.Compare(a.String(), b.String()) })
	for _, a := range p.assent {
		r := cAssent{Under: a.under}
		for _, f := range a.require {
			r.Require = append(r.Require, f.path)
		}
		slices.Sort(r.Require)
		cp.Assent = append(cp.Assent, r)
	}
	b, err := json.Marshal(cp)
	if err != nil {
		panic("consent: canonical policy: " + err.Error()) // only strings, ints and bools: cannot fail
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
