package consent

import (
	"context"
	"log/slog"
)

// SlogSink writes each audit event as one structured log record (message
// "audit event") at its Level. Only the event's identifiers, hashes and
// codes are logged: the Event type holds nothing else. A log is not a
// trail of record: it cannot be verified, and an event re-sent after
// another sink failed is logged twice (same seq and hash).
type SlogSink struct {
	Logger *slog.Logger
	// Level defaults to slog.LevelInfo.
	Level slog.Level
}

// NewSlogSink returns a sink logging to l at info level.
func NewSlogSink(l *slog.Logger) *SlogSink { return &SlogSink{Logger: l, Level: slog.LevelInfo} }

// Append logs e.
func (s *SlogSink) Append(ctx context.Context, e Event) error {
	if s.Logger == nil {
		return nil
	}
	s.Logger.LogAttrs(ctx, s.Level, "audit event",
		slog.Int64("seq", e.Seq),
		slog.Time("time", e.Time),
		slog.String("kind", e.Kind),
		slog.String("flow", e.Flow),
		slog.String("policy_id", e.PolicyID),
		slog.String("policy_hash", e.PolicyHash),
		slog.String("mapping_hash", e.MappingHash),
		slog.String("record_system", e.Record.System),
		slog.String("record_id", e.Record.ID),
		slog.String("recipient", e.Recipient),
		slog.String("decision", e.Decision),
		slog.Any("reasons", e.Reasons),
		slog.String("outcome", e.Outcome),
		slog.String("prev_hash", e.PrevHash),
		slog.String("hash", e.Hash),
	)
	return nil
}
