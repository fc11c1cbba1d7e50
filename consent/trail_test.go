package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memSink keeps events in memory.
type memSink struct {
	events []Event
	fail   error
}

func (m *memSink) Append(_ context.Context, e Event) error {
	if m.fail != nil {
		return m.fail
	}
	m.events = append(m.events, e)
	return nil
}

func fixedClock() func() time.Time {
	t := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// writeTrail writes n events to a fresh JSONL file and returns its path
// and lines.
func writeTrail(t *testing.T, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	tr, sink, err := OpenTrail(path)
	require.NoError(t, err)
	tr.now = fixedClock()
	p := loadTestPolicy(t)
	g := p.Gate(okRequest())
	for i := range n {
		rec := okRecord()
		if i%2 == 1 {
			rec["consent_for_services"] = false
		}
		ev := DecisionEvent("test-flow", RecordRef{System: "primero", ID: "case-0000000" + string(rune('0'+i))}, unhcr, g.Check(rec), "sha256:0a0b0c0d")
		_, err := tr.Append(context.Background(), ev)
		require.NoError(t, err)
	}
	require.NoError(t, sink.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return path, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func verifyLines(lines []string) (Summary, error) {
	return Verify(strings.NewReader(strings.Join(lines, "\n") + "\n"))
}

func TestTrailChainsEvents(t *testing.T) {
	sink := &memSink{}
	tr := NewTrail(sink, WithClock(fixedClock()))
	for range 3 {
		_, err := tr.Append(context.Background(), Event{Kind: KindDecision, Record: ref})
		require.NoError(t, err)
	}
	require.Len(t, sink.events, 3)
	for i, e := range sink.events {
		assert.Equal(t, int64(i+1), e.Seq)
		assert.Equal(t, HashEvent(e), e.Hash)
		if i == 0 {
			assert.Equal(t, "", e.PrevHash)
		} else {
			assert.Equal(t, sink.events[i-1].Hash, e.PrevHash)
		}
	}
	seq, hash := tr.Head()
	assert.Equal(t, int64(3), seq)
	assert.Equal(t, sink.events[2].Hash, hash)
}

func TestTrailDoesNotAdvanceOnSinkError(t *testing.T) {
	sink := &memSink{fail: errors.New("down")}
	tr := NewTrail(sink)
	_, err := tr.Append(context.Background(), Event{Kind: KindDelivery})
	require.Error(t, err)
	sink.fail = nil
	e, err := tr.Append(context.Background(), Event{Kind: KindDelivery})
	require.NoError(t, err)
	assert.Equal(t, int64(1), e.Seq)
}

func TestTrailRefusesProse(t *testing.T) {
	sink := &memSink{}
	tr := NewTrail(sink)
	for name, e := range map[string]Event{
		"no kind":          {},
		"unknown kind":     {Kind: "note"},
		"unknown decision": {Kind: KindDecision, Decision: "maybe"},
		"reason prose":     {Kind: KindDelivery, Reasons: []string{"failed for Test Synthetic"}},
		"outcome prose":    {Kind: KindDelivery, Outcome: "error: name Test"},
		"record id prose":  {Kind: KindDelivery, Record: RecordRef{System: "primero", ID: "Test Synthetic"}},
		"flow prose":       {Kind: KindDelivery, Flow: "a flow"},
		"empty reason":     {Kind: KindDelivery, Reasons: []string{""}},
	} {
		_, err := tr.Append(context.Background(), e)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "Test", name)
	}
	assert.Empty(t, sink.events)
	_, err := tr.Append(context.Background(), Event{Kind: KindDelivery, Flow: "progres-to-primero", Record: ref,
		Recipient: "progres/unhcr", Outcome: OutcomeFailed, Reasons: []string{"http_503", "action:revoke"}})
	assert.NoError(t, err)
}

func TestUntouchedTrailVerifies(t *testing.T) {
	_, lines := writeTrail(t, 5)
	s, err := verifyLines(lines)
	require.NoError(t, err)
	assert.Equal(t, 5, s.Events)
	assert.Equal(t, int64(5), s.LastSeq)

	empty, err := Verify(strings.NewReader(""))
	require.NoError(t, err)
	assert.Equal(t, 0, empty.Events)
}

func tamperErr(t *testing.T, err error) *TamperError {
	t.Helper()
	var te *TamperError
	require.True(t, errors.As(err, &te), "want a *TamperError, got %v", err)
	return te
}

func TestVerifyDetectsChangedByte(t *testing.T) {
	_, lines := writeTrail(t, 5)
	// Change each byte of line 3 in turn: every change is caught at line 3.
	line := lines[2]
	for i := range len(line) {
		for _, delta := range []byte{1, 0x20} {
			b := []byte(line)
			b[i] ^= delta
			if b[i] == '\n' || b[i] == '\r' {
				continue
			}
			changed := append([]string(nil), lines...)
			changed[2] = string(b)
			_, err := verifyLines(changed)
			te := tamperErr(t, err)
			assert.Equal(t, 3, te.Line, "byte %d ^ %#x: %v", i, delta, err)
		}
	}
}

func TestVerifyDetectsDroppedEvent(t *testing.T) {
	_, lines := writeTrail(t, 5)
	for drop := range 4 { // dropping the last one needs the head, below
		changed := append(append([]string(nil), lines[:drop]...), lines[drop+1:]...)
		_, err := verifyLines(changed)
		te := tamperErr(t, err)
		assert.Equal(t, drop+1, te.Line)
		assert.Equal(t, int64(drop+1), te.Seq)
		assert.Equal(t, TamperSeqMismatch, te.Reason)
	}
}

func TestVerifyDetectsSwappedEvents(t *testing.T) {
	_, lines := writeTrail(t, 5)
	changed := append([]string(nil), lines...)
	changed[1], changed[3] = changed[3], changed[1]
	_, err := verifyLines(changed)
	te := tamperErr(t, err)
	assert.Equal(t, 2, te.Line)
	assert.Equal(t, int64(4), te.Got)
	assert.Equal(t, TamperSeqMismatch, te.Reason)
}

func TestVerifyDetectsInsertedEvent(t *testing.T) {
	_, lines := writeTrail(t, 4)
	changed := append([]string(nil), lines[:2]...)
	changed = append(changed, lines[1]) // a replayed copy of event 2
	changed = append(changed, lines[2:]...)
	_, err := verifyLines(changed)
	te := tamperErr(t, err)
	assert.Equal(t, 3, te.Line)
	assert.Equal(t, TamperSeqMismatch, te.Reason)
}

func TestVerifyDetectsRenumberedEvent(t *testing.T) {
	// An event whose seq is edited and hash recomputed still breaks the chain.
	_, lines := writeTrail(t, 4)
	var e Event
	require.NoError(t, json.Unmarshal([]byte(lines[3]), &e))
	e.PrevHash = "forged"
	e.Hash = HashEvent(e)
	b, _ := json.Marshal(e)
	changed := append(append([]string(nil), lines[:3]...), string(b))
	_, err := verifyLines(changed)
	te := tamperErr(t, err)
	assert.Equal(t, 4, te.Line)
	assert.Equal(t, TamperPrevHashMismatch, te.Reason)
}

func TestVerifyDetectsForgedAppend(t *testing.T) {
	_, lines := writeTrail(t, 3)
	var last Event
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &last))

	// A forged event with a made-up hash.
	forged := Event{Seq: 4, Time: last.Time.Add(time.Second), Kind: KindDelivery, Record: ref,
		Outcome: OutcomeDelivered, PrevHash: last.Hash, Hash: strings.Repeat("ab", 32)}
	b, _ := json.Marshal(forged)
	_, err := verifyLines(append(append([]string(nil), lines...), string(b)))
	te := tamperErr(t, err)
	assert.Equal(t, 4, te.Line)
	assert.Equal(t, TamperHashMismatch, te.Reason)

	// A forged event that is a well-formed continuation verifies on its
	// own; the head saved elsewhere catches it.
	forged.Hash = HashEvent(forged)
	b, _ = json.Marshal(forged)
	withForged := strings.Join(append(append([]string(nil), lines...), string(b)), "\n") + "\n"
	_, err = Verify(strings.NewReader(withForged))
	require.NoError(t, err)
	_, err = VerifyHead(strings.NewReader(withForged), last.Seq, last.Hash)
	te = tamperErr(t, err)
	assert.Equal(t, 4, te.Line)
	assert.Equal(t, TamperBeyondHead, te.Reason)

	// The head also catches a dropped last event.
	_, err = VerifyHead(strings.NewReader(strings.Join(lines[:2], "\n")+"\n"), last.Seq, last.Hash)
	te = tamperErr(t, err)
	assert.Equal(t, 3, te.Line)
	assert.Equal(t, TamperShort, te.Reason)

	_, err = VerifyHead(strings.NewReader(strings.Join(lines, "\n")+"\n"), last.Seq, last.Hash)
	assert.NoError(t, err)
}

func TestVerifyDetectsNonCanonicalLine(t *testing.T) {
	_, lines := writeTrail(t, 3)
	changed := append([]string(nil), lines...)
	changed[1] = strings.Replace(changed[1], `"seq":2`, `"seq": 2`, 1)
	_, err := verifyLines(changed)
	te := tamperErr(t, err)
	assert.Equal(t, 2, te.Line)
	assert.Equal(t, TamperNotCanonical, te.Reason)

	changed = append([]string(nil), lines...)
	changed[1] = strings.Replace(changed[1], `{"seq":2`, `{"extra":1,"seq":2`, 1)
	_, err = verifyLines(changed)
	te = tamperErr(t, err)
	assert.Equal(t, 2, te.Line)
	assert.Equal(t, TamperMalformed, te.Reason)
}

func TestFileSinkResumes(t *testing.T) {
	path, lines := writeTrail(t, 3)
	tr, sink, err := OpenTrail(path)
	require.NoError(t, err)
	assert.Equal(t, int64(3), sink.Last().Seq)
	e, err := tr.Append(context.Background(), Event{Kind: KindDelivery, Record: ref, Outcome: OutcomeDelivered})
	require.NoError(t, err)
	assert.Equal(t, int64(4), e.Seq)
	var prev Event
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &prev))
	assert.Equal(t, prev.Hash, e.PrevHash)
	require.NoError(t, sink.Close())

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s, err := Verify(f)
	require.NoError(t, err)
	assert.Equal(t, 4, s.Events)
}

func TestFileSinkRefusesTamperedFileAndBrokenChain(t *testing.T) {
	path, lines := writeTrail(t, 3)
	require.NoError(t, os.WriteFile(path, []byte(strings.Join([]string{lines[0], lines[2]}, "\n")+"\n"), 0o600))
	_, err := OpenFileSink(path)
	assert.Equal(t, 2, tamperErr(t, err).Line)

	path2, _ := writeTrail(t, 2)
	sink, err := OpenFileSink(path2, WithoutSync())
	require.NoError(t, err)
	defer sink.Close()
	last := sink.Last()
	// re-appending the last event is a no-op
	require.NoError(t, sink.Append(context.Background(), last))
	// an event that does not continue the chain is refused
	bad := Event{Seq: 5, Kind: KindDelivery, PrevHash: last.Hash}
	bad.Hash = HashEvent(bad)
	assert.ErrorIs(t, sink.Append(context.Background(), bad), ErrBrokenChain)
	bad = Event{Seq: 3, Kind: KindDelivery, PrevHash: last.Hash, Hash: "wrong"}
	assert.ErrorIs(t, sink.Append(context.Background(), bad), ErrBrokenChain)
	require.NoError(t, sink.Sync())
	b, err := os.ReadFile(path2)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(b), "\n"))
}

func TestFileSinkTornLine(t *testing.T) {
	path, lines := writeTrail(t, 2)
	require.NoError(t, os.WriteFile(path, []byte(lines[0]+"\n"+lines[1][:20]), 0o600))
	_, err := OpenFileSink(path)
	te := tamperErr(t, err)
	assert.Equal(t, 2, te.Line)
}

func TestTrailConcurrentAppendsFormOneChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	tr, sink, err := OpenTrail(path, WithoutSync())
	require.NoError(t, err)
	done := make(chan error)
	for w := range 4 {
		go func() {
			var err error
			for i := range 25 {
				if _, e := tr.Append(context.Background(), Event{Kind: KindDelivery, Record: RecordRef{System: "s", ID: string(rune('a'+w)) + string(rune('a'+i))}}); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-done)
	}
	require.NoError(t, sink.Close())
	require.NoError(t, sink.Close(), "closing twice is harmless")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s, err := Verify(f)
	require.NoError(t, err)
	assert.Equal(t, 100, s.Events)
	assert.ErrorContains(t, sink.Append(context.Background(), Event{Kind: KindDelivery}), "closed")
}

func TestSlogAndMultiSink(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	mem := &memSink{}
	tr := NewTrail(MultiSink{mem, NewSlogSink(logger)}, WithClock(fixedClock()))
	p := loadTestPolicy(t)
	rec := okRecord()
	rec["consent_for_services"] = false
	_, err := tr.Append(context.Background(), DecisionEvent("flow-a", ref, unhcr, p.Check(rec, okRequest()), ""))
	require.NoError(t, err)
	require.Len(t, mem.events, 1)

	var logged map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &logged))
	assert.Equal(t, "audit event", logged["msg"])
	assert.Equal(t, "deny", logged["decision"])
	assert.Equal(t, "case-00000001", logged["record_id"])
	assert.Equal(t, []any{"consent_false"}, logged["reasons"])
	assert.Equal(t, mem.events[0].Hash, logged["hash"])

	// a failing sink stops the chain
	mem.fail = errors.New("down")
	_, err = tr.Append(context.Background(), Event{Kind: KindDelivery})
	assert.ErrorContains(t, err, "sink 0")
}

func TestEventConstructors(t *testing.T) {
	p := loadTestPolicy(t)
	req := okRequest()
	req.Override = &Override{Reason: "court_order"}
	rec := okRecord()
	rec["consent_for_services"] = false
	d := p.Check(rec, req)
	e := DecisionEvent("flow-a", ref, unhcr, d, "sha256:0d0e")
	assert.Equal(t, Event{Kind: KindDecision, Flow: "flow-a", PolicyID: p.ID(), PolicyHash: p.Hash(), MappingHash: "sha256:0d0e",
		Record: ref, Recipient: "progres/unhcr", Decision: DecisionAllow,
		Reasons: []string{"consent_overridden", "consent_false", "override_reason:court_order"}}, e)

	e = DeliveryEvent("flow-a", ref, unhcr, p, "sha256:0d0e", OutcomeFailed, "http_503")
	assert.Equal(t, Event{Kind: KindDelivery, Flow: "flow-a", PolicyID: p.ID(), PolicyHash: p.Hash(), MappingHash: "sha256:0d0e",
		Record: ref, Recipient: "progres/unhcr", Outcome: OutcomeFailed, Reasons: []string{"http_503"}}, e)

	rec = okRecord()
	rec["consent_withdrawn"] = true
	revs := p.Revocations(ref, rec, sharedList(), asOf)
	require.NotEmpty(t, revs)
	e = RevocationEvent("flow-a", revs[0], "revoked")
	assert.Equal(t, Event{Kind: KindRevocation, Flow: "flow-a", PolicyID: p.ID(), PolicyHash: p.Hash(),
		Record: ref, Recipient: "progres/unhcr", Decision: DecisionRevoke,
		Reasons: []string{"consent_revoked", "action:revoke_and_notify"}, Outcome: "revoked"}, e)
}
