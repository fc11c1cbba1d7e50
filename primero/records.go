package primero

import (
	"iter"
	"maps"

	"github.com/casebridge/casebridge/mapping"
)

// AsRecord returns the case as a mapping.Record holding the same values as
// ToRecord, without ToRecord's deep copy: the record's lists and nested
// objects are the case's own. Use it when the case is not used again (a
// case from Cases.All or a Feed, on its way to a mapping); change neither
// the case nor the record afterwards. The top-level map is new.
func (c *Case) AsRecord() mapping.Record { return mapping.Record(c.toMap()) }

// RecordInto is AsRecord into dst, emptied first, and returns it (a new
// record when dst is nil): a caller mapping case after case reuses one
// record rather than making one per case, which was most of what a case
// cost on its way to a mapping. The record is valid until dst is filled
// again; its nested values are the case's own, as AsRecord's are.
func (c *Case) RecordInto(dst mapping.Record) mapping.Record {
	if dst == nil {
		return c.AsRecord()
	}
	clear(dst)
	maps.Copy(dst, c.Fields)
	for i := range caseCodecs {
		if v, ok := caseCodecs[i].enc(c); ok {
			dst[caseCodecs[i].key] = v
		}
	}
	return dst
}

// Records turns a stream of cases (Cases.All, Feed.All) into a stream of
// mapping records (Case.AsRecord: each record shares its nested values with
// the case it came from, which the stream does not yield again), ready for
// mapping.Mapping.Stream and sqlsink.DB.Upsert:
//
//	db.Upsert(ctx, table, m.Stream(ctx, primero.Records(c.Cases.All(ctx, opts))))
//
// An error of cases is passed on and ends the stream.
func Records(cases iter.Seq2[*Case, error]) iter.Seq2[mapping.Record, error] {
	return func(yield func(mapping.Record, error) bool) {
		for c, err := range cases {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(c.AsRecord(), nil) {
				return
			}
		}
	}
}
