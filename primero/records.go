package primero

import (
	"iter"

	"github.com/casebridge/casebridge/mapping"
)

// AsRecord returns the case as a mapping.Record holding the same values as
// ToRecord, without ToRecord's deep copy: the record's lists and nested
// objects are the case's own. Use it when the case is not used again (a
// case from Cases.All or a Feed, on its way to a mapping); change neither
// the case nor the record afterwards. The top-level map is new.
func (c *Case) AsRecord() mapping.Record { return mapping.Record(c.toMap()) }

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
