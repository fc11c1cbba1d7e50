package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Hash returns the content hash of the spec, "sha256:<hex>", over its
// canonical JSON form (tables ordered by name, positions and file names
// left out). The YAML and CSV forms of the same spec have the same hash, so
// the hash identifies the exact version of the agreement that processed a
// record.
func (s *Spec) Hash() string {
	c := s.canonical()
	data, err := json.Marshal(&c)
	if err != nil {
		// A Spec holds only strings, bools and slices of them.
		panic("mapping: spec cannot be marshalled: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
