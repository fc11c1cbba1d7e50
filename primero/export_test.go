package primero

// RememberedCases is how many cases the feed keeps for de-duplicating what
// its overlap reads again (tests check that it stays bounded).
func (f *Feed) RememberedCases() int { return len(f.recent) }

// RecentPages is how many pages back a closed window keeps what it read.
const RecentPages = recentPages
