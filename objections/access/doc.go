// Package access is who may do what in verzet: the people who sign in to
// the supervisors' UI (User) and their sessions (Session), the machines that
// call the /v1 API (Token), the roles both have and the permissions a role
// grants (Role, Permission), and the append-only audit log of what they did
// (AuditEntry).
//
// It also declares what it needs of a store, one small interface per kind
// of record (UserStore, SessionStore, AuditStore, TokenStore; Store is all
// four): objections/postgres and objections/sqlite implement them and
// objections/storetest checks both alike. The checks a store makes before
// writing (CheckStorable) live here, once, so that both stores refuse the
// same input with the same error; the stores keep only their SQL.
//
// Org scopes (which orgs a token or user may see) will come here too.
//
// The package imports objections and the standard library only (the dependency rule in the
// README); objections/httpapi and objections/review use it.
package access
