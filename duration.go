package onecard

import (
	"encoding/json"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as "30m0s" strings,
// so settings stay readable in the API and in the database.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string such as "30m" or "2160h".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Errorf(EINVALID, "A duration must be a string like \"30m\".")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return Errorf(EINVALID, "%q is not a duration like \"30m\".", s)
	}
	*d = Duration(v)
	return nil
}
