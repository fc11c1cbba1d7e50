package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A key twice in one chunk (Primero's fake refuses a repeated case_id, so
// only a real server's oddity could do it) is deleted against the version
// written last, the one the cases table keeps: against both, each would
// delete the other's service rows.
func TestLastVersionsKeepsEachKeyOnceWithItsLastVersion(t *testing.T) {
	v := func(s int) time.Time { return time.Unix(int64(s), 0).UTC() }
	keys, versions := lastVersions([]string{"a", "b", "a", "c"}, []time.Time{v(1), v(2), v(3), v(4)})
	assert.Equal(t, []string{"b", "a", "c"}, keys)
	assert.Equal(t, []time.Time{v(2), v(3), v(4)}, versions)

	unique := []string{"a", "b"}
	keys, _ = lastVersions(unique, []time.Time{v(1), v(2)})
	assert.Equal(t, unique, keys)
}
