package main

import "testing"

func TestLocalPostgresProcs(t *testing.T) {
	none := func(string) string { return "" }
	set := func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	}
	tests := []struct {
		name   string
		dsn    string
		getenv func(string) string
		procs  int
		want   int
	}{
		{"loopback address", "postgres://postgres@127.0.0.1:5432/onecard", none, 2, 1},
		{"localhost", "postgres://postgres@localhost/onecard", none, 8, 7},
		{"IPv6 loopback", "postgresql://postgres@[::1]:5432/onecard", none, 4, 3},
		{"Unix socket", "postgres:///onecard?host=/var/run/postgresql", none, 2, 1},
		{"a server elsewhere", "postgres://onecard@db.campus.example:5432/onecard", none, 2, 2},
		{"an address elsewhere", "postgres://onecard@10.0.0.5/onecard", none, 2, 2},
		{"a local server with a remote fallback", "postgres://onecard@127.0.0.1,10.0.0.5/onecard", none, 2, 2},
		{"SQLite keeps every CPU", "/var/lib/onecard/onecard.db", none, 2, 2},
		{"one CPU is kept", "postgres://postgres@127.0.0.1/onecard", none, 1, 1},
		{"the operator's GOMAXPROCS is obeyed", "postgres://postgres@127.0.0.1/onecard", set, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fewer := localPostgresProcs(tt.dsn, tt.getenv, tt.procs)
			if got != tt.want || fewer != (tt.want < tt.procs) {
				t.Errorf("localPostgresProcs(%q, %d) = %d, %v; want %d", tt.dsn, tt.procs, got, fewer, tt.want)
			}
		})
	}
}
