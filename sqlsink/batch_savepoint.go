package sqlsink

// A batch savepoint: the batch as it was, and a log of what the adds
// since changed that truncating cannot take back (the keys they added to
// byKey, the rows they replaced), so that rollback returns the batch to
// exactly that state.

// savepoint is the batch's lengths and counters when it was set.
type savepoint struct {
	set                        bool
	copyLen, rows, stale       int
	records, firstRow, lastRow int64
}

// replaced is a row an add since the savepoint replaced: its index, and
// its earlier span (PostgreSQL) or values (SQLite) and record number.
type replaced struct {
	at     int
	span   span
	row    []any
	rowNum int64
}

// setSavepoint marks the batch as it is. A compaction the savepoint
// before held back runs first.
func (b *batch) setSavepoint() {
	b.dropSavepoint()
	if b.enc != nil && b.stale > maxStale && b.stale > len(b.copyBuf)/2 {
		b.compact()
	}
	b.sp = savepoint{set: true, copyLen: len(b.copyBuf), rows: len(b.rowNums), stale: b.stale,
		records: b.records, firstRow: b.firstRow, lastRow: b.lastRow}
}

// dropSavepoint forgets the savepoint and its log.
func (b *batch) dropSavepoint() {
	b.sp = savepoint{}
	clear(b.newKeys)
	b.newKeys = b.newKeys[:0]
	clear(b.replaced)
	b.replaced = b.replaced[:0]
}

func (b *batch) logNewKey(key string) {
	if b.sp.set {
		b.newKeys = append(b.newKeys, key)
	}
}

// logReplace logs the row at index at before an add replaces it.
func (b *batch) logReplace(at int) {
	if !b.sp.set {
		return
	}
	r := replaced{at: at, rowNum: b.rowNums[at]}
	if b.enc != nil {
		r.span = b.spans[at]
	} else {
		r.row = b.rows[at]
	}
	b.replaced = append(b.replaced, r)
}

// rollback returns the batch to its savepoint, which stays set; it
// reports false when there is none.
func (b *batch) rollback() bool {
	if !b.sp.set {
		return false
	}
	// Newest first: a row replaced twice gets its first values back.
	for i := len(b.replaced) - 1; i >= 0; i-- {
		r := &b.replaced[i]
		if b.enc != nil {
			b.spans[r.at] = r.span
		} else {
			b.rows[r.at] = r.row
		}
		b.rowNums[r.at] = r.rowNum
	}
	for _, k := range b.newKeys {
		delete(b.byKey, k)
	}
	sp := b.sp
	b.dropSavepoint()
	b.sp = sp // the savepoint stays, its log starts again
	if b.enc != nil {
		b.copyBuf = b.copyBuf[:b.sp.copyLen]
		b.spans = b.spans[:b.sp.rows]
	} else {
		clear(b.rows[b.sp.rows:])
		b.rows = b.rows[:b.sp.rows]
	}
	b.rowNums = b.rowNums[:b.sp.rows]
	b.stale = b.sp.stale
	b.records, b.firstRow, b.lastRow = b.sp.records, b.sp.firstRow, b.sp.lastRow
	return true
}
