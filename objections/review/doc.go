// Package review is the supervisors' web UI of verzet, served at /ui/: a
// server-rendered html/template interface with embedded assets (no
// JavaScript, no CDN, no front-end build step).
//
// Supervisors sign in with a user name and password (bcrypt hashes; a user
// is locked for a doubling while after five failures in a row), then
// search objections by number in any format, or by a part of one (its
// last digits or its beginning: the candidates are offered), filter them
// by org, campaign, source, status and date, open one to see the evidence
// behind it (the offer, the words, language and version of the spoken
// text, each key with its time, provider and call reference, any void
// with actor and reason, what a dialer is told now, and the dial attempts
// it stopped: the count, the first with its latency since receipt, and
// the newest, from the store's decision log when it keeps one), record an
// objection received by letter, e-mail, phone or in person (record.go),
// list every call with its outcome (calls.go), print the evidence pack of
// a number (evidence.go), export lists as CSV for a spreadsheet in the
// UI's language (export.go) and follow objections and offers per day and
// campaign on a dashboard of server-rendered SVG charts. Admins may also
// void an objection (reason required, after a confirmation step), manage
// the users within their scope (users.go) and read the audit log, which
// records every sign-in, view of personal data, export, objection recorded
// by hand, void and change of a user, with actor and time. Numbers show
// in the national format in lists (06 1234 5678), in E.164 on a record.
//
// A user scoped to some orgs (access.User.Orgs) sees on every page and in
// the export only the records of those orgs and, for an agency, the
// objections of its own calls, by the rules of the API's tokens (see
// scope.go): another org's objection is not found, an org filter outside
// the scope selects nothing, the org selectors list only the orgs the user
// sees, an org's dial-time checks and voids are for its own users, and the
// audit log shows the entries about the user's orgs. The agency that made
// a call shows with its objection, flagged when the advertiser did not
// list it.
//
// Sessions are server-side: the cookie holds a 256-bit secret, the store
// only its hash. The cookie is HttpOnly, SameSite=Lax and Secure when the
// request came over TLS. Every form carries a token derived from the
// session secret (or, for the sign-in form, from a pre-session cookie), and
// http.CrossOriginProtection refuses cross-origin posts besides.
//
// The interface speaks Dutch and English (Accept-Language, with a switch
// kept in a cookie; the words are those of docs/glossary.md) and shows
// times in Europe/Amsterdam.
//
// Main types: Server (New, Handler), Stores (what it needs of a store
// besides the register's objections.Store, wired by cmd: Access, Records
// and the optional DecisionLog), Config. Bootstrap makes the first admin.
// The package imports only objections, objections/access, zap and
// golang.org/x/crypto/bcrypt besides the standard library (README, Architecture).
package review
