// Package progrestest is a faithful fake of UNHCR's proGres v4 gateways,
// DTP and PING, for tests.
//
// DTPServer is an HTTPS server on loopback that requires a client
// certificate from its own throwaway CA (mutual TLS), optionally pins
// thumbprints, checks the Ocp-Apim-Subscription-Key, validates and stores
// the bodies of the two operations and answers 200 {}. It pushes
// notifications (proGres referrals and decisions, in DTP's shapes: string
// option codes, lookup objects, one item per join row, the decision field
// names misspelt as shipped) over real HTTP(S) to the integration's inbound
// Handler, with the API key, and delivers again what was not acknowledged.
//
// PINGServer serves the Azure AD B2C token endpoint (password grant, token
// expiry by the fake's clock), checks bearer and subscription key, and
// answers every operation by ShippingProcessId with PING's envelopes:
// integer codes with "…name" companions, "No Data Available", paging, sync
// and async ingestion and checkstatus, including its malformed-JSON answer.
//
// Both keep state in memory: seed them, inspect them (Requests with
// secrets redacted, the bodies received) and break them on purpose
// (FailNext, RateLimitNext, DropNext, DropAfterNext, TimeoutNext,
// SetLatency), or at random with a seeded Chaos plan (WithChaos, SetChaos):
// 503s, 429s with Retry-After, timeouts and connection resets before or
// after the request acted, over the DTP fake's mutual TLS too. A
// ChaosHandler puts the same faults in front of the integration's inbound
// handler, so the DTP fake's pushes meet them and are delivered again.
// Behaviours the project
// documentation marks unconfirmed are configurable. CA issues the
// certificates the fake, the tests and cmd/casebridge-fakes share. The
// package works on map[string]any and does not import the progres client.
package progrestest
