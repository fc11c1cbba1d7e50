// Package casebridge is a Go SDK for humanitarian case-management
// interoperability: it lets a team connect Primero (UNICEF), proGres v4
// (UNHCR), OSCaR and DHIS2, and feed PostgreSQL dashboards, as ordinary Go
// programs that can be tested offline.
//
// This package holds documentation only. The work is done by its packages:
//
//   - [github.com/casebridge/casebridge/primero]: the Primero v2 client, with
//     its faithful fake in primero/primerotest.
//   - [github.com/casebridge/casebridge/mapping]: declarative field mappings
//     (YAML or CSV) that are both the signed data-sharing agreement and the
//     running code.
//   - [github.com/casebridge/casebridge/consent]: information-sharing-protocol
//     policies, a default-deny consent gate and a tamper-evident audit trail.
//   - [github.com/casebridge/casebridge/sqlsink]: streaming upserts into
//     PostgreSQL (SQLite embedded by default), SQL sources, and the flows'
//     state store.
//
// Correctness, consent and privacy come before convenience: a referral is
// never created twice, never dropped, never sent without the consent its
// policy requires, and no log line, error or audit event carries a child's
// personal data.
//
// Doc comments and tests cite "pitfall N": the numbers refer to
// docs/pitfalls.md in this repository, the list of integration defects
// casebridge guards against. docs/ also describes each real system as
// casebridge assumes it (docs/systems/).
package casebridge
