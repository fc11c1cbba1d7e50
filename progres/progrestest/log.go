package progrestest

import (
	"io"
	"log"
)

// discardLog silences net/http's server log (TLS handshake failures from
// tests that present no certificate on purpose).
var discardLog = log.New(io.Discard, "", 0)
