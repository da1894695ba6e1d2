package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Exit statuses. Usage errors get 2, like the shells and flag packages do,
// so scripts can tell "you called it wrong" from "it found a problem".
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `OneCard: a campus one-card system (校园一卡通).

Usage:
  onecard serve [--db URL] [--addr HOST:PORT] [--demo] [--data-dir DIR] [--channels FILE] [--public-url URL]
  onecard sandbox [--addr HOST:PORT] [--data-dir DIR] [--channels FILE]
  onecard check [--db URL] [--data-dir DIR]
  onecard bench ledger [--db URL] [--seconds N] [--clients N] [--accounts N] [--per-request N] [--json]
  onecard sim pos [--server URL] --card NUMBER --amount YUAN [--terminal CODE] [--pin PIN]
  onecard sim lunch [--server URL] [--seconds N] [--cards N] [--pos N] [--offline SHARE] [--json]
  onecard help

Commands:
  serve         serve the JSON API; with no --db it keeps an SQLite file in the data directory
  check         verify the ledger: balances sum to zero, match the journal and stay within
                their bounds, the hash chain is intact, no key is stored twice;
                exits 1 on any violation
  bench ledger  measure committed transfers per second and latency in a scratch database
  sandbox       run the local payment gateway (Alipay, WeChat Pay, bank link) with test keys
                and write the channel configuration serve --channels reads
  sim pos       tap a demo card at a demo canteen POS of a "serve --demo" server
  sim lunch     replay a lunch rush on a "serve --demo" server: what it spent, rate, latency
  help          show this text

--db takes a postgres:// URL or an SQLite file path. "onecard COMMAND -h" lists a command's flags.

Environment:
  ONECARD_DATA_DIR        data directory (default ./onecard-data)
  ONECARD_ADDR            address serve listens on (default 127.0.0.1:8080)
  ONECARD_SECRET          store secret, hex or base64, at least 32 bytes; default: the data
                          directory's secret.key, created on first start. Every instance
                          sharing a PostgreSQL database needs the same one.
  ONECARD_CHANNELS        channel configuration file for serve (JSON: alipay, wechat, bank)
  ONECARD_PUBLIC_URL      the server's address as payers and gateways reach it
                          (default: the listening address)
  ONECARD_ADMIN_PASSWORD  password of the first administrator; default: a one-time
                          password printed once
`

// errUsage means the command line was wrong and the problem has been
// printed; Main exits with exitUsage.
var errUsage = errors.New("usage")

// errFailed means the command ran and found a problem it has already
// reported (a ledger violation); Main exits with exitFailure and prints
// nothing more.
var errFailed = errors.New("failed")

// Main runs the command line args (without the program name) and returns
// the exit status. Tests call it in-process; main calls it with the real
// environment.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := run(ctx, args, getenv, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errFailed):
		return exitFailure
	}
	fmt.Fprintf(stderr, "onecard: %v\n", err)
	return exitFailure
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "check":
		return check(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return benchCmd(ctx, rest, getenv, stdout, stderr)
	case "sim":
		return simCmd(ctx, rest, stdout, stderr)
	case "sandbox":
		return sandboxCmd(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "onecard: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// newFlagSet returns a flag set that reports errors instead of exiting, with
// a usage line above the flag list.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags (one or two dashes):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and refuses positional arguments, which no
// subcommand takes; a mistyped flag value would otherwise be ignored.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage // the flag package has printed the problem and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "onecard %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
