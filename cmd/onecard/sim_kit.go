package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/store"
)

// demoKit writes the demo kit into the data directory (for people) and
// returns the handler serve mounts at demo.KitPath (for `onecard sim`,
// which knows only the server's address). serve calls it with --demo only:
// the kit holds the demo terminals' and cards' keys.
func demoKit(ctx context.Context, db *store.DB, dataDir string, log *slog.Logger) (*demo.Kit, http.Handler, error) {
	if err := ensureDataDir(dataDir); err != nil {
		return nil, nil, err
	}
	kit, data, err := demo.WriteKit(ctx, db, dataDir)
	if err != nil {
		return nil, nil, err
	}
	log.Info("demo kit for the simulator", "file", filepath.Join(dataDir, demo.KitFile),
		"terminals", len(kit.Terminals), "cards", len(kit.Cards))
	return kit, demo.KitHandler(data), nil
}

// printDemoKit tells a person who started the demo how to drive it with
// the simulator.
func printDemoKit(w io.Writer, base, dataDir string, info *demo.Info, kit *demo.Kit) {
	fmt.Fprintf(w, `Simulate terminals: %d demo terminals and %d virtual cards, keys in %s
  (served at %s%s to this machine only).
  onecard sim pos --server %s --card %s --amount 12.50
  onecard sim lunch --server %s --seconds 10

`, len(kit.Terminals), len(kit.Cards), filepath.Join(dataDir, demo.KitFile), base, demo.KitPath, base, info.SampleNumber, base)
}
