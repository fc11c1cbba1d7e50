// Package race reports whether the binary was built with the race detector.
//
// Tests that measure heap use or count allocations skip under it: the
// detector's shadow memory and slower execution distort those figures and
// multiply run time. .ci/run runs them once more without -race. It finds
// them itself: every Test function whose own body reads Enabled, e.g.
//
//	func TestAllHeapDoesNotGrowWithCaseCount(t *testing.T) {
//		if race.Enabled {
//			t.Skip("heap figures are meaningless under -race")
//		}
//		...
//
// and it fails if Enabled is read anywhere else (a helper, a benchmark,
// non-test code), since it could not tell which tests skip, or if a listed
// test does not pass in the race-free run. So write the check inside the
// test itself, with no naming convention needed.
package race
