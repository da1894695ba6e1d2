package store

// An account's history is a chain through the journal: accounts.last_transfer
// names its newest transfer, and each journal row names the transfer before
// it of its debit account (debit_prev) and of its credit account
// (credit_prev). The chains replace two indexes by debit and by credit
// account, which the ledger paid for on every commit (see
// migrations/*/00011_history_links.sql); readers walk them instead.

// countNothing is the counts of a walk that stops at an ID or a time.
const countNothing = `FALSE`

// walkHistory returns a WITH RECURSIVE clause defining walk(id, account, n)
// over the histories of n accounts (its first n arguments): for each
// account, the IDs of its transfers, newest first. A step reads the transfer
// it stands on as j (its hold, if any, as h) and goes on to the one before
// it only while the condition more holds, so a walk reads no further back
// than its caller needs; the row it stops at is listed but not followed, so
// callers still filter what walk lists. n counts the transfers passed for
// which counts held (countNothing counts nothing; only a counting walk
// joins holds, so only counts may name h), for walks that stop after a
// number of matching transfers rather than at an ID or a time. An ID of 0
// ends a chain; a transfer between two of the accounts is listed twice.
func walkHistory(accounts int, more, counts string) string {
	return walkHistoryFrom(`last_transfer`, accounts, more, counts)
}

// walkHistoryFrom is walkHistory starting each account's walk at start, an
// expression over the account's row (accounts) instead of its newest
// transfer; its arguments come before the accounts'.
func walkHistoryFrom(start string, accounts int, more, counts string) string {
	holds := ""
	if counts != countNothing { // a step that counts nothing need not read holds
		holds = ` LEFT JOIN holds h ON h.transfer_id = j.id`
	}
	return `WITH RECURSIVE walk(id, account, n) AS (
		SELECT ` + start + `, id, 0 FROM accounts WHERE id IN (` + placeholders(accounts) + `)
		UNION ALL
		SELECT CASE WHEN j.debit = w.account THEN j.debit_prev ELSE j.credit_prev END, w.account,
			w.n + CASE WHEN ` + counts + ` THEN 1 ELSE 0 END
		FROM walk w JOIN journal j ON j.id = w.id` + holds + `
		WHERE ` + more + `
	) `
}

// inWalk is the condition that a journal row is one the walk listed and,
// if cond is given, that cond holds for its ID. PostgreSQL is handed the
// IDs as an array, which it looks up by primary key: given "IN (SELECT
// ...)", its planner, which cannot estimate a recursive query, scanned the
// whole journal for them. SQLite looks the IDs up either way.
func (db *DB) inWalk(cond string) string {
	q := `SELECT id FROM walk`
	if cond != "" {
		q += ` WHERE ` + cond
	}
	if db.dialect == Postgres {
		return `id = ANY(ARRAY(` + q + `))`
	}
	return `id IN (` + q + `)`
}
