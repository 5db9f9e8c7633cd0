package access

// Role is what a user or an API token may do. Roles are not a ladder: each
// grants a fixed set of permissions (see Role.Can).
type Role string

// Roles.
const (
	// RoleDialer asks whether a number may be called, one at a time or a
	// whole list.
	RoleDialer Role = "dialer"
	// RoleIntegrator is a dialer that also writes relations, consents and
	// objections (a CRM, a web form).
	RoleIntegrator Role = "integrator"
	// RoleSupervisor reads and exports everything; the only thing it
	// writes is a new objection (PermObject).
	RoleSupervisor Role = "supervisor"
	// RoleAdmin may do everything, including voiding objections and
	// managing orgs and tokens.
	RoleAdmin Role = "admin"
)

// Roles lists every role, least to most powerful.
func Roles() []Role { return []Role{RoleDialer, RoleIntegrator, RoleSupervisor, RoleAdmin} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleDialer, RoleIntegrator, RoleSupervisor, RoleAdmin:
		return true
	}
	return false
}

// Permission is one thing a role may do.
type Permission string

// Permissions.
const (
	PermCheck  Permission = "check"  // callability and scrub
	PermWrite  Permission = "write"  // relations, consents, objections
	PermRead   Permission = "read"   // objections, offers, evidence packs, orgs
	PermManage Permission = "manage" // void objections, set orgs, manage tokens and users
	// PermObject records a new objection, and nothing else: an objection
	// only ever protects the person it names, so supervisors have it
	// too (the UI's form for objections received by letter, e-mail or
	// phone). Voiding one needs PermManage. The /v1 API asks PermWrite
	// to record an objection, as before.
	PermObject Permission = "object"
)

// Can reports whether role r has permission p.
func (r Role) Can(p Permission) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleSupervisor:
		return p == PermCheck || p == PermRead || p == PermObject
	case RoleIntegrator:
		return p == PermCheck || p == PermWrite || p == PermObject
	case RoleDialer:
		return p == PermCheck
	}
	return false
}
