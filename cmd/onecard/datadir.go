package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Defaults of the settings serve, check and bench share.
const (
	defaultDataDir = "onecard-data"
	defaultAddr    = "127.0.0.1:8080"
	dbFileName     = "onecard.db"
)

// dataDir returns the data directory: the flag, else ONECARD_DATA_DIR, else
// ./onecard-data.
func dataDir(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if d := getenv("ONECARD_DATA_DIR"); d != "" {
		return d
	}
	return defaultDataDir
}

// ensureDataDir creates the data directory, readable by its owner only: it
// holds the database and the secret that keys every PIN.
func ensureDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("unable to create the data directory: %w", err)
	}
	return nil
}

// defaultDB is the SQLite file serve and check use without --db.
func defaultDB(dir string) string {
	return filepath.Join(dir, dbFileName)
}
