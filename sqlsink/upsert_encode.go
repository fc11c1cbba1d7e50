package sqlsink

import (
	"encoding/binary"
	"errors"
	"math/big"
	"reflect"

	"github.com/jackc/pgx/v5/pgtype"
)

// pgCopyHeader starts a binary COPY stream: signature, flags, extension
// length. pgCopyTrailer ends it.
var (
	pgCopyHeader  = []byte("PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000")
	pgCopyTrailer = []byte{0xff, 0xff}
)

// pgEncoder encodes converted rows into PostgreSQL's binary COPY format,
// for the column types the table really has (their OIDs, read from the
// catalog by checkTable). Nothing is asked of the server and nothing is
// cached by it: the types are exactly those checked against the
// declaration in this upsert, so no description can belong to another
// table. It is used by one goroutine at a time.
type pgEncoder struct {
	m    *pgtype.Map
	cols []pgColumn
}

type pgColumn struct {
	oid      uint32
	typ      string // the database type, for errors
	plan     pgtype.EncodePlan
	planType reflect.Type // the Go type plan was made for
}

func newPGEncoder(cols []existingColumn) *pgEncoder {
	e := &pgEncoder{m: pgtype.NewMap(), cols: make([]pgColumn, len(cols))}
	for i, c := range cols {
		e.cols[i] = pgColumn{oid: c.oid, typ: c.typ}
	}
	return e
}

// errEncode is the reason for a value the column's type cannot hold; the
// encoder's own message, which quotes the value, is dropped.
var errEncode = errors.New("value does not fit the column's type in the database")

// appendRow appends one tuple to buf. On error it returns the position of
// the column at fault.
func (e *pgEncoder) appendRow(buf []byte, vals []any) ([]byte, int, error) {
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(vals)))
	for i, v := range vals {
		if v == nil {
			buf = binary.BigEndian.AppendUint32(buf, 0xffffffff) // NULL
			continue
		}
		c := &e.cols[i]
		if s, ok := v.(string); ok {
			if out, done := appendText(buf, c.oid, s); done {
				buf = out
				continue
			}
		}
		v = pgBinaryValue(c.oid, v)
		if t := reflect.TypeOf(v); c.plan == nil || c.planType != t {
			c.plan, c.planType = e.m.PlanEncode(c.oid, pgtype.BinaryFormatCode, v), t
			if c.plan == nil {
				return buf, i, errEncode
			}
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		out, err := c.plan.Encode(v, buf)
		if err != nil {
			return buf[:at], i, errEncode
		}
		if out == nil { // the encoder says NULL
			buf = binary.BigEndian.AppendUint32(buf[:at], 0xffffffff)
			continue
		}
		buf = out
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf, -1, nil
}

// appendText appends a text value for a text, varchar or uuid column as
// its binary COPY field (length, then bytes), as pgtype would, without
// boxing it for pgtype first; done is false for other columns (and for a
// uuid that is not canonical, left to pgtype's error).
func appendText(buf []byte, oid uint32, s string) (out []byte, done bool) {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID:
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
		return append(buf, s...), true
	case pgtype.UUIDOID:
		if b, ok := parseUUID(s); ok {
			buf = binary.BigEndian.AppendUint32(buf, 16)
			return append(buf, b[:]...), true
		}
	}
	return buf, false
}

// pgBinaryValue gives pgtype a value it encodes in binary for the column's
// type where the converted value is text: a decimal for numeric, a UUID
// for uuid (both validated by convertValue).
func pgBinaryValue(oid uint32, v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	switch oid {
	case pgtype.NumericOID:
		neg, digits, exp, err := splitDecimal(s)
		if err != nil {
			return v // unreachable: convertValue checked it
		}
		n := new(big.Int)
		if digits != "" {
			n.SetString(digits, 10)
		}
		if neg {
			n.Neg(n)
		}
		return pgtype.Numeric{Int: n, Exp: int32(exp), Valid: true}
	case pgtype.UUIDOID:
		if b, ok := parseUUID(s); ok {
			return pgtype.UUID{Bytes: b, Valid: true}
		}
	}
	return v
}
