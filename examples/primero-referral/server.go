package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// server is the identity of one Primero server in the state. Case ids are
// only unique within a server, and two servers can hold the same ids (a
// staging copy of production, a reset or restored instance, two fakes
// seeded alike). So every key the bridge stores (the run lock, the links
// from cases to referrals, the audit trail) is scoped by it: a state
// database used against another server never mistakes that server's cases
// for ones already referred.
//
// Primero tells an anonymous caller nothing that identifies the instance
// (its public GET /api/v2/primero returns interface settings only; see
// docs/systems/primero.md), so the identity is the normalised base URL. A
// server reset or restored at the same address keeps its identity; the
// bridge covers that case by checking every stored link against the
// server's own list of referrals before trusting it (see bridge.existing).
type server struct {
	// url is the normalised base URL.
	url string
	// system is "primero-" and 12 hex digits of the URL's SHA-256: the
	// record system of the server's cases in the state and the audit trail.
	system string
}

// identify returns the identity of the Primero server at raw.
func identify(raw string) (server, error) {
	n, err := normaliseURL(raw)
	if err != nil {
		return server{}, err
	}
	sum := sha256.Sum256([]byte(n))
	return server{url: n, system: "primero-" + hex.EncodeToString(sum[:6])}, nil
}

// normaliseURL reduces a base URL to one spelling per server: scheme and
// host in lower case, the scheme's default port dropped, no user
// information, query or fragment, and no trailing slash (nor a trailing
// /api/v2, which some configurations include).
func normaliseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("primero URL must be an absolute http or https URL")
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	path = strings.TrimRight(strings.TrimSuffix(path, "/api/v2"), "/")
	return scheme + "://" + host + path, nil
}
