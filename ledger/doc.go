// Package ledger is OneCard's double-entry ledger: accounts and transfers in
// int64 fen, idempotent by key, with pending transfers (post, void, timeout),
// linked transfers that succeed or fail together, a hash-chained append-only
// journal, and a group committer that gathers concurrent callers into one
// durable database transaction.
//
// The model is TigerBeetle's: every transfer debits one account and credits
// another, so the sum of all balances is always zero; each transfer of a batch
// gets its own result and a failing one never fails its neighbours.
//
// The engine is pure logic over the small Tx interface. Stores (SQLite,
// PostgreSQL) implement Tx; the engine decides, the database enforces: the
// store applies deltas with conditional updates and a CHECK on each account's
// floor, so a bug here fails a transaction instead of creating money.
package ledger
