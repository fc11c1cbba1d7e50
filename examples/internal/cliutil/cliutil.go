// Package cliutil holds what the example commands share: parsing their
// flags and ordering counts for a report.
package cliutil

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
)

// ByCount returns the keys of m, the most frequent first, then in order.
func ByCount[K cmp.Ordered](m map[K]int) []K {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b K) int { return cmp.Compare(m[b], m[a]) })
	return keys
}

// ParseFlags parses args with fs and returns the names of the flags given.
// -h gives flag.ErrHelp as it is; a bad flag is the flag package's error
// with a hint to run with -h; a stray argument is refused, since every
// setting of the examples is a flag.
func ParseFlags(fs *flag.FlagSet, args []string) (map[string]bool, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (run with -h for the flags)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every setting is a flag (run with -h)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set, nil
}
