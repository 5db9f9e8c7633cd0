// Package objections is the register of telemarketing objections: the domain
// of verzet. It holds phone numbers, objections, offers (the evidence that the
// right to object was offered), customer relations, consents, orgs, the
// callability decision and the Store interface. It imports nothing of verzet's
// and only the standard library and nyaruka/phonenumbers; it does not log.
//
// Who may do what (users, sessions, API tokens, roles, the audit log) is
// objections/access. The records of the stores' other capabilities live
// here so that the stores can reach them (CallState, Delivery,
// DecisionRecord, the UI's search and counts), while the interfaces over
// them are declared by their users (telephony/twilio, objections/httpapi,
// objections/review). So are the checks both stores make before writing
// (CheckStorable and friends, storable.go): the stores keep only SQL.
//
// Legal semantics (see shared reference docs/compliance.md):
//
//   - An objection takes effect when it is recorded: ReceivedAt is the server
//     clock at the moment the store commits it, and Decide treats the number
//     (and, when known, the person) as not callable by that org from that
//     instant, on every basis (REQ-6). There is no grace period.
//   - The caller is identified by the E.164 number (normalised with
//     libphonenumber, the raw input kept for audit) and, when the dialer passes
//     one, a person/contact id. An objection on a number blocks anyone at that
//     number; one on a person blocks all of their numbers (§5.10). When the
//     number is unknown the objection is kept against the dialer's references
//     with status pending_number (§5.11).
//   - An objection applies to the whole org (the legal entity, §5.1) and
//     voids every phone consent given at or before it; only a consent given
//     after it restores calling (§5.4). Nothing but an audited void removes it
//     (§5.5); objections are never edited or deleted.
//   - Evidence kept: each objection with its source, call and dialer
//     references; each offer with the prompt id, version, language and hash,
//     the milliseconds played, every key with its time, and the outcome; and
//     an append-only event log in which each event carries the hash of the
//     one before it, so that edits, deletions and reordering are detectable
//     (VerifyChain).
//
// Errors carry a code (EINVALID, ENOTFOUND, ECONFLICT, EUNAVAILABLE,
// EINTERNAL) read with ErrorCode; adapters map codes to HTTP statuses or IVR
// outcomes.
package objections
