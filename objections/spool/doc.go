// Package spool keeps a caller's key press on local disk when the store
// cannot take it, and replays it into the store later. It serves one rule: a
// key press that means "object" is durable before the caller hears the
// confirmation, survives a store outage and a crash, and is recorded exactly
// once however often a provider retries.
//
// # Use
//
// The IVR prepares the objection as Register.Record would (ID, ReceivedAt =
// the moment of the key press, normalised number, idempotency key or
// provider and call ref) and writes it to the store. When the store is
// unavailable it calls AppendObjection (and AppendOffer for the evidence of
// the call); when that returns nil the key press is on disk and the caller
// may hear the confirmation. When Append fails too, the key press is kept
// nowhere and the caller must not be told it was. One goroutine owned by the
// process runs Spool.Run (or calls Replay), which delivers the entries to
// the store in order until none are left.
//
// # Guarantees and why they hold
//
//   - Durable before confirmation: Append writes one record and fsyncs the
//     log before it returns; the first creation of the folder and of the
//     log also fsyncs the folders that name them.
//   - Crash: appends are serialised, one write and one fsync each, so a
//     crash can damage only the last record, which was never acknowledged.
//     Open recognises it (a record that runs to or past the end of the file
//     and is short, unreadable or fails its checksum), cuts it off and keeps
//     everything before it. Damage anywhere else is not a crash: Open
//     returns a *CorruptError naming the offset instead of skipping records.
//   - Order: Replay delivers entries in Seq order and stops at the first
//     failure; that entry and those after it stay pending, in order.
//   - Exactly once: the spool delivers at least once (a crash between the
//     store's commit and the done marker delivers an entry again) and the
//     store makes it once: it recognises a repeat by (org, idempotency key)
//     or (provider, call ref) and returns the stored record. That is also
//     why a provider retry that was spooled twice is recorded once, and why
//     Append refuses an objection that carries neither. Replay writes to the
//     store directly, not through the Register, so the ID and the
//     ReceivedAt of the key press are what is recorded.
//   - One owner: Open takes an exclusive lock on the folder (flock on Unix),
//     which the kernel releases when the process dies; a second Open of the
//     same folder fails with ECONFLICT.
//
// A write or fsync failure in Append is returned (EUNAVAILABLE). After a
// failed fsync the spool refuses further appends until it is opened again,
// because what the kernel kept is unknown; a record written before such a
// failure may still be replayed, which records an objection the caller
// pressed but did not hear confirmed — the safe side.
//
// An entry the store rejects for good (EINVALID) blocks the entries behind
// it: Replay returns that error, naming the entry's Seq, every time. Append
// checks what the store would reject so that this does not happen in
// practice; if it does, an operator has to look.
//
// # On disk
//
// The folder (mode 0700: the records hold phone numbers) holds:
//
//   - spool.log: one record per key press, each a line
//     "<CRC-32C> <length> <JSON of the Entry>\n" (checksum and length as 8
//     hex digits; the checksum covers the length and the JSON), mode 0600;
//   - done: the Seq of the last entry replayed, with its checksum, replaced
//     atomically (temporary file, fsync, rename, fsync of the folder) every
//     64 entries and when Replay ends;
//   - lock: the file that holds the lock.
//
// When every entry is done Replay empties the log (the marker is durable
// first, and Seq never restarts, so the two always agree).
//
// The package starts no goroutines (Run runs in its caller's), does not
// log (it returns errors; the caller logs) and keeps no global state. It
// imports the standard library and objections only.
package spool
