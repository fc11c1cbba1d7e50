package referral

import (
	"crypto/sha1" //nolint:gosec // RFC 4122 version 5 is defined on SHA-1; this is naming, not security.
	"encoding/hex"
	"strings"
)

// Namespace is the RFC 4122 namespace of casebridge's stable ids
// (a fixed, random version 4 UUID).
const Namespace = "6b1c2a4e-8f3d-4c57-9e21-0d5a7b3c9f18"

// StableID returns a lowercase RFC 4122 version 5 UUID named by parts
// (joined with NUL) in namespace ns (a UUID; Namespace when empty).
//
// Flows name what they create by what caused it: the Primero case made
// from a proGres intervention gets StableID("", "progres", number) as its
// id, its service the same with "service" added. A re-delivered
// intervention then names the same case and service, so a create whose
// answer was lost is found again (Primero answers 409 for a known id)
// instead of being made twice, and a re-sent service merges into its row
// instead of appending a second one.
//
// StableID panics if ns is not a UUID: namespaces are constants.
func StableID(ns string, parts ...string) string {
	if ns == "" {
		ns = Namespace
	}
	nsb, err := hex.DecodeString(strings.ReplaceAll(ns, "-", ""))
	if err != nil || len(nsb) != 16 {
		panic("referral: StableID namespace is not a UUID")
	}
	h := sha1.New() //nolint:gosec // see the import
	h.Write(nsb)
	h.Write([]byte(strings.Join(parts, "\x00")))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
