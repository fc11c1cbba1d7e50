// Package progres talks to UNHCR's proGres v4 through its two gateways and
// receives what proGres pushes.
//
//   - DTPClient sends to the DTP gateway (the first one, an Azure API
//     Management front): a new referral to UNHCR, and delivery feedback and
//     decisions on referrals proGres sent. Every call presents a client
//     certificate (mutual TLS) and the Ocp-Apim-Subscription-Key.
//   - Handler is an http.Handler for the notifications DTP POSTs to the
//     integration: proGres referrals and proGres decisions, authenticated by
//     an API key, decoded strictly into OutgoingReferral and
//     IncomingReferralDecision item by item, each handed to the caller's
//     callback with a delivery key that is the same when DTP delivers the
//     item again.
//   - PINGClient talks to PING, DTP's successor: an Azure AD B2C password
//     grant (token reused until shortly before it expires), fetch by
//     ShippingProcessId paged lazily, sync and async ingestion, and the
//     async status check, whose answer can be malformed JSON.
//
// What the package does for its caller (docs/systems/progres.md describes
// what it assumes of the gateways; the pitfalls are in docs/pitfalls.md):
//
//   - Option codes (sex, review decision, rejection reason, PING statuses)
//     are typed; an unknown code is an error naming the field, never passed
//     through raw (pitfall 19).
//   - Required fields are checked before anything is sent, and a missing
//     contact is an error, not a placeholder (pitfall 25); errors name
//     fields by JSON path and never quote values.
//   - Writes are never retried blindly (pitfall 28): DTP operations and
//     PING ingestion are sent once; PING fetch and status checks, which
//     change nothing, are retried on 5xx, 429 and dropped connections.
//   - A 401 is never retried in a loop (pitfall 29); a PING token is
//     renewed before it expires and, after a 401, at most once (pitfall 30).
//   - Async ingestion results are polled to completion with a deadline and
//     surfaced per record (pitfall 13).
//   - The inbound handler refuses a bad item alone, so that it does not
//     hold back the valid items of its notification, and hands it to an
//     invalid-item callback that can answer the sender for it; it answers
//     success only when every item is handled and reports per-item results
//     ("delivered", "failed", "invalid") otherwise (pitfall 31); no body
//     reaches a log or an error (pitfall 40).
//
// ReferralKey is the composite "<case_id>#<suffix>" id of a referral
// Primero sends to UNHCR through DTP.
package progres
