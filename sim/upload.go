package sim

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// Upload is what the server made of one uploaded record.
type Upload struct {
	Record purse.Record
	Result device.RecordResult
}

// Upload sends the POS's queued records, oldest first, in batches of up to
// device.MaxRecords, and forgets each one the server answered for:
// accepted, duplicate (already there) or rejected alike, since sending a
// rejected record again would change nothing; the caller reports them.
// A batch that fails stays queued and ends the upload. An offline POS also
// pulls the blacklist, as it does whenever it reaches the server.
func (p *POS) Upload(ctx context.Context) ([]Upload, error) {
	return p.send(ctx, true)
}

// send is Upload; with save false it leaves the emptied queue to be saved
// with the terminal's next change, sparing an online tap a file write: a
// simulator stopped before then sends those records again, and the server
// counts them once (duplicate).
func (p *POS) send(ctx context.Context, save bool) ([]Upload, error) {
	var out []Upload
	for len(p.file.Outbox) > 0 {
		batch := p.file.Outbox[:min(len(p.file.Outbox), device.MaxRecords)]
		results, err := p.Client.UploadRecords(ctx, batch)
		if err != nil {
			return out, fmt.Errorf("terminal %s could not upload %d record(s): %w", p.Code, len(batch), err)
		}
		if len(results) != len(batch) {
			return out, fmt.Errorf("terminal %s uploaded %d record(s) and got %d results", p.Code, len(batch), len(results))
		}
		for i := range batch {
			out = append(out, Upload{Record: batch[i], Result: results[i]})
		}
		p.file.Outbox = append([]purse.Record(nil), p.file.Outbox[len(batch):]...)
		if !save {
			p.dirty = true
			continue
		}
		if err := p.save(); err != nil {
			return out, err
		}
	}
	if p.Offline {
		return out, p.pullBlacklist(ctx)
	}
	return out, nil
}
