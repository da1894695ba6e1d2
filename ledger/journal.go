package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Entry is one line of the append-only journal: the change one transfer made
// to one account. Entries are chained: each hash covers the previous hash and
// this entry's content, so changing any past entry breaks every later hash.
type Entry struct {
	Seq            int64
	TransferID     int64
	Account        int64
	Balance        int64 // posted delta: + credit, - debit
	DebitsPending  int64 // delta of the account's pending debits
	CreditsPending int64 // delta of the account's pending credits
	Time           time.Time
	Hash           [32]byte
}

// Head is the end of the journal: the last entry's seq and hash and the last
// transfer ID handed out. Stores keep it in one row that every batch locks,
// which serialises batches across processes sharing a database.
type Head struct {
	Seq        int64
	Hash       [32]byte
	TransferID int64
}

// ChainHash returns the hash of e given the previous entry's hash and the key
// of e's transfer. The encoding is fixed-width big-endian with the key
// length-prefixed, so no two different entries encode alike.
func ChainHash(prev [32]byte, e *Entry, key string) [32]byte {
	var b [32 + 8*7 + 2 + MaxKeyLen]byte
	n := copy(b[:], prev[:])
	for _, v := range []int64{e.Seq, e.TransferID, e.Account, e.Balance, e.DebitsPending, e.CreditsPending, e.Time.UnixMicro()} {
		binary.BigEndian.PutUint64(b[n:], uint64(v))
		n += 8
	}
	binary.BigEndian.PutUint16(b[n:], uint16(len(key)))
	n += 2
	n += copy(b[n:], key)
	return sha256.Sum256(b[:n])
}
