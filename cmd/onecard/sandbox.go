package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/sandbox"
)

// sandboxCmd runs the local payment gateway on its own: it keeps its test
// keys in the data directory and writes the channel configuration that
// "onecard serve --channels FILE" reads.
func sandboxCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var addr, dir, out string
	flags := newFlagSet("sandbox", "onecard sandbox [--addr HOST:PORT] [--data-dir DIR] [--channels FILE]", stderr)
	flags.StringVar(&addr, "addr", "127.0.0.1:8090", "address to listen on")
	flags.StringVar(&dir, "data-dir", "", "where the sandbox keeps its keys (default $ONECARD_DATA_DIR or ./"+defaultDataDir+")")
	flags.StringVar(&out, "channels", "", "write the channel configuration for serve here (default DATA_DIR/channels.json)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	dir = dataDir(dir, getenv)
	if err := ensureDataDir(dir); err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(dir, "channels.json")
	}
	log := newLogger(stderr)
	keys, err := sandboxKeys(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := baseURL(ln.Addr())
	sb := sandbox.NewWithKeys(sandbox.Options{BaseURL: base, Logger: log}, keys)
	defer sb.Close()
	if err := writeChannels(out, sb.Config()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Sandbox payment gateway on %s: Alipay %s/alipay/gateway.do, WeChat Pay %s/wechat, bank link %s/bank.\n", base, base, base, base)
	fmt.Fprintf(stdout, "Channel configuration written to %s: onecard serve --channels %s\n", out, out)
	return serveUntilDone(ctx, ln, sb, log)
}

// sandboxKeys loads the sandbox's keys from dir, creating them once.
func sandboxKeys(dir string) (*sandbox.Keys, error) {
	path := filepath.Join(dir, "sandbox-keys.json")
	k, err := sandbox.LoadKeys(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if k, err = sandbox.NewKeys(); err != nil {
		return nil, err
	}
	return k, k.Save(path)
}

// writeChannels writes a channel configuration, readable by the owner only:
// it holds private keys.
func writeChannels(path string, c channel.Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// readChannels reads a channel configuration written by writeChannels or by
// hand.
func readChannels(path string) (channel.Config, error) {
	var c channel.Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// serveUntilDone serves h on ln until ctx ends.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return srv.Shutdown(sctx)
}
