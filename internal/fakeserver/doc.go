// Package fakeserver is what the fakes (primerotest, progrestest) share:
// the request log with secrets redacted, and fault injection — faults
// queued one by one (FailNext, DropNext, …), a fixed latency, and a seeded
// random fault plan ("chaos") for the exactly-once tests of the flows.
//
// A fault is one of five kinds, and nothing else: an error status (503
// from chaos) or a 429 with Retry-After, both answered before the request
// acts; a timeout, held until the client gives up and never acted; a
// connection reset before acting; and a connection reset after acting —
// the handler ran and changed state, and its answer is lost. Chaos never
// answers 401 or 403 and by default leaves the login endpoints alone.
//
// The fakes keep their own exported API and wrap this package.
package fakeserver
