package main

import (
	"net"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onecard-campus/onecard/store"
)

// PostgreSQL on the same machine is given a CPU of its own: the Go runtime
// then runs on one fewer. The ledger's throughput on PostgreSQL is bound by
// one PostgreSQL process, the committer's, which writes every batch in
// series under the journal head's lock; with the Go runtime free to use
// every CPU, its threads waking and sleeping around each batch's
// acknowledgements take that process's CPU from it. On the two-CPU machine
// of docs/BENCHMARKS.md (sixth sitting) `bench ledger` on PostgreSQL gave
// 25,325–29,329 transfers/s with the runtime on both CPUs and
// 31,697–35,596/s on one, ahead in all four alternated pairs; the
// lunch-rush simulation against `serve` gave 92.1–98.5 online taps/s
// against 97.5–111.3. SQLite runs in the server's own process and keeps
// every CPU.
//
// An operator's GOMAXPROCS is always obeyed.

// localPostgresProcs returns the Go runtime's CPUs for a store at dsn, and
// whether that is fewer than it has: procs-1 (at least 1) for a PostgreSQL
// server reached over loopback or a Unix socket, procs otherwise or when
// GOMAXPROCS is set.
func localPostgresProcs(dsn string, getenv func(string) string, procs int) (int, bool) {
	if procs < 2 || getenv("GOMAXPROCS") != "" || !store.IsPostgresURL(dsn) {
		return procs, false
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil || !isLocalHost(cfg.Host) {
		return procs, false
	}
	for _, f := range cfg.Fallbacks {
		if !isLocalHost(f.Host) {
			return procs, false // a server elsewhere may answer
		}
	}
	return procs - 1, true
}

// isLocalHost reports whether a PostgreSQL host is this machine: a Unix
// socket directory, localhost or a loopback address.
func isLocalHost(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// leaveCPUToPostgres applies localPostgresProcs to the running program and
// returns the CPUs it runs on, and whether it gave one up.
func leaveCPUToPostgres(dsn string, getenv func(string) string) (int, bool) {
	n, fewer := localPostgresProcs(dsn, getenv, runtime.GOMAXPROCS(0))
	if fewer {
		runtime.GOMAXPROCS(n)
	}
	return n, fewer
}
