package objections

import (
	"strings"
	"time"
)

// Instance is one verzet process on a store, known by the heartbeat it
// writes (docs/evidence.md, "Instances"). Instances on one store know each
// other through these rows: one whose LastSeen is older than a few seconds
// has stopped, and a live instance takes over what it left — the Asterisk
// channels in its ARI application, and its offers still in_progress, which
// are closed as interrupted.
type Instance struct {
	// ID is unique per process: a restarted verzet is a new instance.
	ID string `json:"id"`
	// App is the instance's ARI (Stasis) application, "" without Asterisk.
	App       string    `json:"app,omitempty"`
	StartedAt time.Time `json:"started_at"`
	LastSeen  time.Time `json:"last_seen"`
	// TakenBy is the live instance that took over this one's calls after
	// it stopped, "" while none has.
	TakenBy string `json:"taken_by,omitempty"`
}

// CheckStorable checks an instance's heartbeat: id and times are
// required; the times are kept as both stores keep them.
func (i *Instance) CheckStorable() error {
	if strings.TrimSpace(i.ID) == "" {
		return Invalid("id", i.ID, "is empty")
	}
	for _, f := range []struct{ name, v string }{{"id", i.ID}, {"app", i.App}} {
		if len(f.v) > MaxRef {
			return Invalid(f.name, f.v[:32]+"…", "is longer than %d characters", MaxRef)
		}
		if err := ValidText(f.name, f.v); err != nil {
			return err
		}
	}
	if i.StartedAt.IsZero() || i.LastSeen.IsZero() {
		return Invalid("last_seen", "", "is required, with started_at")
	}
	i.StartedAt, i.LastSeen = StoredTime(i.StartedAt), StoredTime(i.LastSeen)
	return nil
}

// InstanceRetention is how long the row of an instance that stopped is
// kept: long past any call it could have left behind.
const InstanceRetention = 24 * time.Hour
