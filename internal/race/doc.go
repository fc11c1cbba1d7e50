// Package race reports whether the binary was built with the race detector.
// Tests that measure heap use skip under it: the detector's shadow memory
// and slower execution distort heap figures and multiply run time, so
// .ci/run runs those tests once more without -race.
package race
