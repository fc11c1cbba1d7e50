package sqlsink

// A batch savepoint: the batch as it was, and a log of what each add
// since changed that truncating cannot take back (a key added to byKey, a
// row an add replaced), so that rollback returns the batch to exactly
// that state.

// savepoint is the batch's lengths and counters when it was set.
type savepoint struct {
	set                        bool
	copyLen, rows, stale       int
	records, firstRow, lastRow int64
}

// undo is one change an add made since the savepoint: a new key, or the
// row at index at replaced (its earlier span or values, and number).
type undo struct {
	key      string
	replaced bool
	at       int
	span     span
	row      []any
	rowNum   int64
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
	clear(b.undo)
	b.undo = b.undo[:0]
}

func (b *batch) logNewKey(key string) {
	if b.sp.set {
		b.undo = append(b.undo, undo{key: key})
	}
}

// logReplace logs the row at index at before an add replaces it.
func (b *batch) logReplace(at int) {
	if !b.sp.set {
		return
	}
	u := undo{replaced: true, at: at, rowNum: b.rowNums[at]}
	if b.enc != nil {
		u.span = b.spans[at]
	} else {
		u.row = b.rows[at]
	}
	b.undo = append(b.undo, u)
}

// rollback returns the batch to its savepoint, which stays set; it
// reports false when there is none.
func (b *batch) rollback() bool {
	if !b.sp.set {
		return false
	}
	for i := len(b.undo) - 1; i >= 0; i-- {
		u := &b.undo[i]
		if !u.replaced {
			delete(b.byKey, u.key)
			continue
		}
		if b.enc != nil {
			b.spans[u.at] = u.span
		} else {
			b.rows[u.at] = u.row
		}
		b.rowNums[u.at] = u.rowNum
	}
	clear(b.undo)
	b.undo = b.undo[:0]
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
