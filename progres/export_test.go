package progres

// WithClock sets the clock deciding token renewal, for tests.
var WithClock = withClock
