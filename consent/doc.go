// Package consent turns an information-sharing protocol (ISP) into code that
// enforces it and proves that it did.
//
// A [Policy] is compiled from YAML ([Compile], [Load]). It names the parties
// (the sending system and agency, the receiving ones), the purpose, the
// consent conditions a record must meet (for example consent_for_services and
// disclosure_other_orgs both true, plus age-dependent assent rules), the
// allowed service types, the need-to-know field list, whether a consent
// override is ever permitted and which named reasons it requires, and what
// happens on revocation. Every policy has a stable content hash
// ([Policy.Hash]) that identifies the exact version that decided.
//
// The gate denies by default. [Policy.Gate] binds a policy to one [Request]
// (recipient, purpose, service type, optional override) once; [Gate.Check]
// then decides per record without allocating on the allow path, and
// [Gate.Filter] returns a new, minimized record that holds only the
// need-to-know paths ([Gate.FilterInto] and [Gate.ShareInto] build it in a
// reused record instead, for loops that are done with each record before
// the next). A consent value that is missing, null, empty, of the
// wrong type, or a string the policy does not declare ("yes" is not a
// boolean unless the policy says so) denies. The revocation field fails
// closed too: only an absent or null value, or an explicit false, means
// consent still stands; anything else ("true", "yes", 1, a date, a list)
// is read as withdrawn.
//
// [Policy.Revocations] compares what was shared before (identifiers only)
// with a record's current consent and yields one [Revocation] per recipient
// that flows act on (revoke the referral, notify the partner); the gate
// already blocks further sends.
//
// The audit trail ([Trail]) sequences every [Event], hash-chains it
// (SHA-256 over the canonical encoding, see [HashEvent]) and appends it to a
// [Sink]: a JSONL file ([FileSink]), a [log/slog] logger ([SlogSink]), several
// at once ([MultiSink]), or the SQL sink of package sqlsink. An event whose
// append failed is kept and re-sent, under the same sequence number, before
// the next one ([Trail.Append], [Trail.Flush]), so a sink that fails once
// neither jams the trail nor leaves two events with one number. Events
// accept identifiers and codes only ([IsIdentifier]). [Verify] reads a
// JSONL trail and reports the first event that was altered, removed, inserted
// or reordered. Events carry identifiers, hashes and reason codes only; the
// constructors [DecisionEvent], [DeliveryEvent] and [RevocationEvent] have no
// parameter that could hold personal data.
//
// Package consenttest scans logs, audit output and error messages for the
// values of a record's personal fields so that tests can prove nothing
// personal leaked.
package consent
