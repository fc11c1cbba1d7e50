// Package consenttest helps tests prove that no personal data leaked and
// records audit events in memory.
//
// [Scan] and [AssertNoPersonalData] take a record and the paths of its
// personal fields (or every leaf path, from [LeafPaths]), and search any
// text — log output, audit trail lines, error messages, request dumps — for
// those fields' values: strings (case-insensitive), numbers, digits-only
// forms of phone-like strings, and dates in common formats. Values shorter
// than [MinLen] characters (such as "f", "12" or a sex code "m") are
// ignored, because they match by accident everywhere. A leak is reported by
// field path, text index, offset and form, never by value, so that the test
// failure itself does not leak.
//
// [Sink] is an in-memory consent.Sink for flows' tests.
package consenttest
