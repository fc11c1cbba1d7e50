package referral

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The RFC 4122 DNS namespace and a well-known version 5 vector.
func TestStableIDMatchesRFC4122Version5(t *testing.T) {
	const dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	assert.Equal(t, "2ed6657d-e927-568b-95e1-2665a8aea6a2", StableID(dns, "www.example.com"))
}

func TestStableIDIsStableAndDistinct(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a := StableID("", "progres", "803-23-PRTITV-0000123")
	assert.Regexp(t, uuid, a, "a lowercase version 5 UUID, as Primero requires for client ids")
	assert.Equal(t, a, StableID(Namespace, "progres", "803-23-PRTITV-0000123"), "stable across calls")
	assert.NotEqual(t, a, StableID("", "progres", "803-23-PRTITV-0000124"))
	assert.NotEqual(t, StableID("", "ab", "c"), StableID("", "a", "bc"), "parts are separated")
	assert.Panics(t, func() { StableID("not-a-uuid", "x") })
}
