package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// writeJSON replaces path with v as JSON atomically: a temporary file in
// the same directory, then a rename, so a simulator killed at any moment
// leaves the old state or the new one, never half of each. It does not
// fsync: the state survives the process, not a power cut, which is enough
// for cards that hold demo money. Files are readable by their owner only:
// cards hold their keys.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// readJSON decodes the file at path into v; os.ErrNotExist if it is not there.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
