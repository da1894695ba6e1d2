// Package sim is the device simulator behind `onecard sim`: virtual cards
// and canteen POS that drive the real device API (docs/DEVICE_API.md)
// through device.Client, as real cards and terminals would.
//
// It plays the demo school of a `serve --demo` server, knowing only its
// address: the server hands its demo kit (every demo terminal's key, every
// demo card's purse image) to clients on its own machine. The simulator
// keeps its world in a state directory, one per server: the kit, each card
// as it evolves (balance and counters change at every tap) and each
// terminal's sequence, unfinished purchase and queued records, each saved
// atomically after every operation, so a run continues where the last one
// stopped, as real cards and POS do.
//
// A POS taps cards online (the server's check, a claim of the transition
// balance onto the card, the purchase, the record's upload) or offline
// (the purchase alone, the record queued and uploaded later in batches).
// Lunch replays a lunch rush over many POS at once and reports what it
// spent and the rate and latency it saw.
package sim
