package consent

import (
	"context"
	"fmt"
)

// MultiSink appends each event to every sink, in order, and stops at the
// first failure (the Trail then does not advance and the next Append
// re-sends the same event, which the sinks that already took it must
// ignore, as FileSink does). Put the sink of record first.
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
