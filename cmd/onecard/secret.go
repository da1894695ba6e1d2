package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretFileName is the file in the data directory that holds the store
// secret, hex-encoded, when ONECARD_SECRET is not set. Hex, so that its
// contents can be given as ONECARD_SECRET to other instances as they are.
const secretFileName = "secret.key"

// minSecret is the shortest secret store.Open accepts.
const minSecret = 32

// secretWarning is printed when a secret file is created: it is the one
// thing a backup of the database alone does not bring back.
const secretWarning = `Created the store secret %s.
  It keys every PIN and ID-number hash. Keep it safe and back it up with the database:
  without it no PIN or password can be verified again. Every instance sharing a
  PostgreSQL database must use the same secret (set ONECARD_SECRET to this file's contents).
`

// parseSecret decodes a secret given as hex or base64. Hex is tried first:
// 64 hex digits are also valid base64, but mean 32 bytes, not 48.
func parseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, errors.New("the secret must be hex or base64 (make one with: openssl rand -hex 32)")
	}
	if len(b) < minSecret {
		return nil, fmt.Errorf("the secret is %d bytes; it must be at least %d (make one with: openssl rand -hex 32)", len(b), minSecret)
	}
	return b, nil
}

// readSecret returns the secret from ONECARD_SECRET, else from the data
// directory's secret.key, with where it came from. found is false when
// neither exists; a file or variable that exists but is unusable is an
// error, never replaced.
func readSecret(dir string, getenv func(string) string) (secret []byte, from string, found bool, err error) {
	if v := getenv("ONECARD_SECRET"); v != "" {
		b, err := parseSecret(v)
		if err != nil {
			return nil, "", false, fmt.Errorf("ONECARD_SECRET: %w", err)
		}
		return b, "ONECARD_SECRET", true, nil
	}
	path := secretPath(dir)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", false, nil
	} else if err != nil {
		return nil, "", false, fmt.Errorf("unable to read the store secret: %w", err)
	}
	b, err := parseSecret(string(data))
	if err != nil {
		return nil, "", false, fmt.Errorf("%s: %w", path, err)
	}
	return b, path, true, nil
}

// createSecret writes 32 random bytes to the data directory's secret.key
// and returns the secret the file then holds. The file is written aside and
// linked into place, so a crash never leaves a half-written secret and two
// processes starting at once agree on one (the second reads the first's).
// created is false when another process won.
func createSecret(dir string) (secret []byte, created bool, err error) {
	path := secretPath(dir)
	b := make([]byte, minSecret)
	if _, err := rand.Read(b); err != nil {
		return nil, false, fmt.Errorf("unable to make a store secret: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".secret-*.tmp") // mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("unable to write the store secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(b) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("unable to write the store secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		got, _, found, err := readSecret(dir, func(string) string { return "" })
		if err == nil && !found {
			err = fmt.Errorf("%s vanished while starting", path)
		}
		return got, false, err
	} else if err != nil {
		return nil, false, fmt.Errorf("unable to write the store secret: %w", err)
	}
	// The new name must survive a power cut before anything is hashed with it.
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return nil, false, fmt.Errorf("unable to write the store secret: %w", err)
		}
	}
	return b, true, nil
}

// secretPath is where the data directory's secret lives.
func secretPath(dir string) string {
	return filepath.Join(dir, secretFileName)
}
