package objections

import (
	"context"
	"strings"
	"time"
)

// Register is the objection register: it validates input, normalises
// numbers, stamps ids and server time, and hands the result to a Store.
// Adapters, the API and the CLI all go through it.
type Register struct {
	store   Store
	numbers Numbers
	now     Clock
}

// NewRegister returns a register over store. A nil now uses time.Now.
func NewRegister(store Store, numbers Numbers, now Clock) *Register {
	if now == nil {
		now = time.Now
	}
	return &Register{store: store, numbers: numbers, now: now}
}

// Store returns the underlying store.
func (r *Register) Store() Store { return r.store }

// Numbers returns the number normaliser.
func (r *Register) Numbers() Numbers { return r.numbers }

// Now returns the register's clock reading in UTC, truncated to microseconds
// (what both stores keep).
func (r *Register) Now() time.Time { return StoredTime(r.now()) }

// Record records an objection. When it returns without error the objection is
// committed durably and Decide sees it. A repeat (see Store.RecordObjection)
// returns the stored objection and created=false. EINVALID names the field.
func (r *Register) Record(ctx context.Context, o Objection) (Objection, bool, error) {
	p, err := r.Prepare(o)
	if err != nil {
		return Objection{}, false, err
	}
	return r.Commit(ctx, p)
}

// Prepare validates o, normalises its number and stamps its id and time of
// receipt (now), without writing anything. The IVR prepares first so that
// the exact record can go to the spool when the store is down.
func (r *Register) Prepare(o Objection) (Objection, error) {
	if err := o.Prepare(r.numbers); err != nil {
		return Objection{}, err
	}
	now := r.Now()
	o.ID = NewID(now)
	o.ReceivedAt = now
	o.Void = nil
	if o.Actor == "" {
		o.Actor = "system"
	}
	return o, nil
}

// Commit writes an objection made by Prepare (or replayed from the spool),
// keeping its id and time of receipt. Idempotent as Store.RecordObjection.
func (r *Register) Commit(ctx context.Context, o Objection) (Objection, bool, error) {
	return r.store.RecordObjection(ctx, o)
}

// Void voids an objection with an actor and a reason, both required.
// EINVALID, ENOTFOUND, ECONFLICT (voided already).
func (r *Register) Void(ctx context.Context, id, actor, reason string) (Objection, error) {
	if strings.TrimSpace(id) == "" {
		return Objection{}, Invalid("id", id, "is empty")
	}
	if strings.TrimSpace(actor) == "" {
		return Objection{}, Invalid("actor", actor, "is empty")
	}
	if strings.TrimSpace(reason) == "" {
		return Objection{}, Invalid("reason", reason, "is empty: a void needs a reason")
	}
	if len(reason) > 2000 {
		return Objection{}, Invalid("reason", reason[:32]+"…", "is longer than 2000 characters")
	}
	if err := validTexts("id", id, "actor", actor, "reason", reason); err != nil {
		return Objection{}, err
	}
	return r.store.VoidObjection(ctx, Void{ObjectionID: id, Actor: actor, Reason: strings.TrimSpace(reason), At: r.Now()})
}

// StartOffer records that an offer begins: its in_progress record, with
// who handles it and the prompt it plays, completed later by RecordOffer
// under the same id (see Store.StartOffer). EINVALID names the field.
func (r *Register) StartOffer(ctx context.Context, o Offer) (Offer, bool, error) {
	o.Outcome = OutcomeInProgress
	p, err := r.PrepareOffer(o)
	if err != nil {
		return Offer{}, false, err
	}
	return r.store.StartOffer(ctx, p)
}

// RecordOffer records the evidence of one IVR session. EINVALID names the field.
func (r *Register) RecordOffer(ctx context.Context, o Offer) (Offer, bool, error) {
	p, err := r.PrepareOffer(o)
	if err != nil {
		return Offer{}, false, err
	}
	return r.CommitOffer(ctx, p)
}

// PrepareOffer validates an offer and fills its id and times, writing nothing.
func (r *Register) PrepareOffer(o Offer) (Offer, error) {
	if err := o.Prepare(r.numbers); err != nil {
		return Offer{}, err
	}
	now := r.Now()
	if o.ID == "" {
		o.ID = NewID(now)
	}
	if o.StartedAt.IsZero() {
		o.StartedAt = now
	}
	if o.EndedAt.IsZero() && o.Outcome != OutcomeInProgress {
		o.EndedAt = now // an offer in progress has not ended: zero
	}
	o.StartedAt = o.StartedAt.UTC().Truncate(time.Microsecond)
	o.EndedAt = o.EndedAt.UTC().Truncate(time.Microsecond)
	for i := range o.Keys {
		o.Keys[i].At = o.Keys[i].At.UTC().Truncate(time.Microsecond)
	}
	return o, nil
}

// CommitOffer writes an offer made by PrepareOffer (or replayed from the spool).
func (r *Register) CommitOffer(ctx context.Context, o Offer) (Offer, bool, error) {
	return r.store.RecordOffer(ctx, o)
}

// SetOrg validates and stores an org. EINVALID names the field.
func (r *Register) SetOrg(ctx context.Context, o Org) (Org, error) {
	if err := o.Normalize(); err != nil {
		return Org{}, err
	}
	now := r.Now()
	if old, err := r.store.Org(ctx, o.ID); err == nil {
		o.CreatedAt = old.CreatedAt
	} else if ErrorCode(err) != ENOTFOUND {
		return Org{}, err
	} else {
		o.CreatedAt = now
	}
	for _, a := range o.Agencies {
		ag, err := r.store.Org(ctx, a)
		if ErrorCode(err) == ENOTFOUND || err == nil && ag.Kind != OrgAgency {
			return Org{}, Invalid("agencies", a, "is not an org of kind agency: set it up first with kind agency (verzet orgs set %s --kind agency)", a)
		}
		if err != nil {
			return Org{}, err
		}
	}
	o.UpdatedAt = now
	o.AutoCreated = false
	return r.store.SetOrg(ctx, o)
}

// PutRelation validates and stores a customer relation. EINVALID names the
// field, also for a peildatum after today.
func (r *Register) PutRelation(ctx context.Context, rel Relation) (Relation, error) {
	if err := rel.Prepare(r.numbers); err != nil {
		return Relation{}, err
	}
	if err := rel.checkPast(r.Now()); err != nil {
		return Relation{}, err
	}
	rel.ID = NewID(r.Now())
	rel.CreatedAt = r.Now()
	stored, err := r.store.PutRelation(ctx, rel)
	if org, ok := orgNotSetUp(err); ok {
		return Relation{}, r.unknownOrg(ctx, "org", org)
	}
	return stored, err
}

// PutConsent validates and stores a consent. EINVALID names the field,
// also for a given_at or withdrawn_at after now (allowing ClockSkew).
func (r *Register) PutConsent(ctx context.Context, c Consent) (Consent, error) {
	if err := c.Prepare(r.numbers); err != nil {
		return Consent{}, err
	}
	if err := c.checkPast(r.Now()); err != nil {
		return Consent{}, err
	}
	c.ID = NewID(r.Now())
	c.CreatedAt = r.Now()
	c.GivenAt = c.GivenAt.Truncate(time.Microsecond)
	stored, err := r.store.PutConsent(ctx, c)
	if org, ok := orgNotSetUp(err); ok {
		return Consent{}, r.unknownOrg(ctx, "org", org)
	}
	return stored, err
}

// Decide answers whether org may call number (in any format the region
// allows) at time at; a zero at means now. EINVALID for a bad number or org.
func (r *Register) Decide(ctx context.Context, org, number, person string, at time.Time) (Decision, error) {
	org = strings.ToLower(strings.TrimSpace(org))
	if err := ValidateOrgID(org); err != nil {
		return Decision{}, err
	}
	n, err := r.numbers.Normalize(number)
	if err != nil {
		return Decision{}, err
	}
	if at.IsZero() {
		at = r.Now()
	}
	f, err := r.store.Facts(ctx, org, n, person)
	if err != nil {
		return Decision{}, err
	}
	return Decide(f, n, person, at), nil
}
