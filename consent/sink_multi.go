package consent

import (
	"context"
	"fmt"
)

// MultiSink appends each event to every sink, in order, and stops at the
// first failure. The Trail then keeps the event and re-sends it, with the
// same Seq and Hash, before the next one (see Trail.Append): the sinks
// that already took it must treat that as done, as FileSink and package
// sqlsink's audit logs do. Put the sink of record first.
type MultiSink []Sink

// Append appends e to each sink in turn.
func (m MultiSink) Append(ctx context.Context, e Event) error {
	for i, s := range m {
		if err := s.Append(ctx, e); err != nil {
			return fmt.Errorf("consent: sink %d: %w", i, err)
		}
	}
	return nil
}
