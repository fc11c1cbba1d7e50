package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/casebridge/casebridge/sqlsink"
)

// minKeyLen is the shortest pseudonym key accepted (bytes).
const minKeyLen = 32

// pseudonymizer replaces Primero ids by keyed pseudonyms (HMAC-SHA256), for
// tables that will be shared publicly: the same id always gives the same
// pseudonym under one key, so re-syncs update the same rows, and without
// the key a pseudonym cannot be traced back to a case.
type pseudonymizer struct{ secret []byte }

func newPseudonymizer(key string) (*pseudonymizer, error) {
	if len(key) < minKeyLen {
		return nil, errors.New("the pseudonym key must be at least 32 bytes")
	}
	return &pseudonymizer{secret: []byte(key)}, nil
}

// of returns the pseudonym of id, of the given kind ("case", "service"),
// from source: 32 hex digits (128 bits).
func (p *pseudonymizer) of(kind, source, id string) string {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(source))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// mode names the keying of a flow's rows, stored in its state so that a
// database is never filled with two kinds of keys: "plain", or "hmac-"
// and a fingerprint of the key (which does not reveal it).
func (p *pseudonymizer) mode() string {
	if p == nil {
		return "keys-plain"
	}
	return "keys-hmac-" + p.of("fingerprint", "", "")[:12]
}

// key returns id itself, or its pseudonym.
func (p *pseudonymizer) key(kind, source, id string) string {
	if p == nil {
		return id
	}
	return p.of(kind, source, id)
}

// checkMode refuses to mix plain and pseudonymised keys (or two pseudonym
// keys) in one database, and records the mode on first use.
func (s *syncer) checkMode(ctx context.Context, flow string) error {
	mode := s.pseudo.mode()
	for _, other := range []string{"keys-plain", "keys-hmac"} {
		if strings.HasPrefix(mode, other) {
			continue
		}
		if done, err := s.state.Processed(ctx, flow, other); err != nil || done {
			if err == nil {
				err = errors.New("this database holds " + strings.TrimPrefix(other, "keys-") +
					" keys for source " + s.source + ": use another database for the other keying")
			}
			return err
		}
	}
	return s.state.Update(ctx, flow, func(tx sqlsink.StateTx) error {
		family := "keys-plain"
		if s.pseudo != nil {
			family = "keys-hmac"
			if has, err := tx.Processed(ctx, family); err != nil {
				return err
			} else if has {
				if same, err := tx.Processed(ctx, mode); err != nil || !same {
					if err == nil {
						err = errors.New("this database holds keys made with another pseudonym key for source " + s.source)
					}
					return err
				}
			}
			if _, err := tx.MarkProcessed(ctx, mode); err != nil {
				return err
			}
		}
		_, err := tx.MarkProcessed(ctx, family)
		return err
	})
}
