package primero

import (
	"iter"

	"github.com/casebridge/casebridge/mapping"
)

// Records turns a stream of cases (Cases.All, Feed.All) into a stream of
// mapping records (Case.ToRecord), ready for mapping.Mapping.Stream and
// sqlsink.DB.Upsert:
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
			if !yield(c.ToRecord(), nil) {
				return
			}
		}
	}
}
