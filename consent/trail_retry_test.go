package consent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onceFailingSink fails the first Append of event number failSeq and
// stores everything else, treating a re-append of its last event as done
// (as the Sink contract asks).
type onceFailingSink struct {
	failSeq int64
	failed  bool
	events  []Event
}

func (s *onceFailingSink) Append(_ context.Context, e Event) error {
	if e.Seq == s.failSeq && !s.failed {
		s.failed = true
		return errors.New("sink down")
	}
	if n := len(s.events); n > 0 && s.events[n-1].Seq == e.Seq && s.events[n-1].Hash == e.Hash {
		return nil
	}
	s.events = append(s.events, e)
	return nil
}

func delivery(id string) Event {
	return Event{Kind: KindDelivery, Flow: "flow-a", Record: RecordRef{System: "primero", ID: id}, Outcome: OutcomeDelivered}
}

// TestMultiSinkFailureResendsSameEvent: when the second sink of a
// MultiSink fails, the first already holds the event. The next Append must
// re-send that same event before its own, so that neither sink is left with
// a gap, a jammed chain, or two events under one sequence number.
func TestMultiSinkFailureResendsSameEvent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := OpenFileSink(path)
	require.NoError(t, err)
	flaky := &onceFailingSink{failSeq: 2}
	tr := NewTrail(MultiSink{file, flaky}, WithClock(fixedClock()))

	_, err = tr.Append(ctx, delivery("case-0001"))
	require.NoError(t, err)
	_, err = tr.Append(ctx, delivery("case-0002"))
	require.Error(t, err, "the second sink fails once")
	e3, err := tr.Append(ctx, delivery("case-0003"))
	require.NoError(t, err, "the trail must not jam after one failed sink")
	assert.Equal(t, int64(3), e3.Seq)
	require.NoError(t, file.Close())

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sum, err := Verify(f)
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Events)

	require.Len(t, flaky.events, 3)
	for i, id := range []string{"case-0001", "case-0002", "case-0003"} {
		assert.Equal(t, int64(i+1), flaky.events[i].Seq)
		assert.Equal(t, id, flaky.events[i].Record.ID, "event %d is the one first sent under its number", i+1)
	}
	seq, hash := tr.Head()
	assert.Equal(t, int64(3), seq)
	assert.Equal(t, flaky.events[2].Hash, hash)
}

// TestTrailRetryOfFailedEventRecordsItOnce: a caller that retries the
// event whose Append failed gets it recorded once, not twice.
func TestTrailRetryOfFailedEventRecordsItOnce(t *testing.T) {
	ctx := context.Background()
	flaky := &onceFailingSink{failSeq: 1}
	tr := NewTrail(flaky, WithClock(fixedClock()))
	_, err := tr.Append(ctx, delivery("case-0001"))
	require.Error(t, err)
	e, err := tr.Append(ctx, delivery("case-0001"))
	require.NoError(t, err)
	assert.Equal(t, int64(1), e.Seq)
	e, err = tr.Append(ctx, delivery("case-0002"))
	require.NoError(t, err)
	assert.Equal(t, int64(2), e.Seq)
	require.Len(t, flaky.events, 2)
	assert.Equal(t, "case-0001", flaky.events[0].Record.ID)
}

// TestTrailKeepsPendingEventWhileSinkStaysDown: while the re-send keeps
// failing, later events are refused (not numbered over the pending one),
// and once the sink is back the pending event goes first.
func TestTrailKeepsPendingEventWhileSinkStaysDown(t *testing.T) {
	ctx := context.Background()
	sink := &memSink{fail: errors.New("down")}
	tr := NewTrail(sink, WithClock(fixedClock()))
	_, err := tr.Append(ctx, delivery("case-0001"))
	require.Error(t, err)
	_, err = tr.Append(ctx, delivery("case-0002"))
	require.Error(t, err)
	sink.fail = nil
	e, err := tr.Append(ctx, delivery("case-0003"))
	require.NoError(t, err)
	assert.Equal(t, int64(2), e.Seq)
	require.Len(t, sink.events, 2)
	assert.Equal(t, "case-0001", sink.events[0].Record.ID)
	assert.Equal(t, "case-0003", sink.events[1].Record.ID)
	assert.Equal(t, sink.events[0].Hash, sink.events[1].PrevHash)
}

// TestTrailPendingEventIsACopy: the kept event does not change when the
// caller reuses the Reasons slice it passed.
func TestTrailPendingEventIsACopy(t *testing.T) {
	ctx := context.Background()
	flaky := &onceFailingSink{failSeq: 1}
	tr := NewTrail(flaky, WithClock(fixedClock()))
	reasons := []string{"http_503"}
	e := Event{Kind: KindDelivery, Record: RecordRef{System: "primero", ID: "case-0001"}, Outcome: OutcomeFailed, Reasons: reasons}
	_, err := tr.Append(ctx, e)
	require.Error(t, err)
	reasons[0] = "http_500"
	_, err = tr.Append(ctx, e)
	require.NoError(t, err)
	require.Len(t, flaky.events, 2)
	assert.Equal(t, []string{"http_503"}, flaky.events[0].Reasons)
	assert.Equal(t, []string{"http_500"}, flaky.events[1].Reasons)
}
