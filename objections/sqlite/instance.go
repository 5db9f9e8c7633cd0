package sqlite

import (
	"context"
	"time"

	"github.com/verzet/verzet/objections"
)

const instanceColumns = `id, app, started_at, last_seen, taken_by`

func scanInstance(r rowScanner) (objections.Instance, error) {
	var i objections.Instance
	err := r.Scan(&i.ID, &i.App, at(&i.StartedAt), at(&i.LastSeen), &i.TakenBy)
	return i, err
}

// Heartbeat writes the instance's row: created the first time, its
// last_seen moved on after. Rows of instances gone for longer than
// objections.InstanceRetention are removed on the way. EINVALID for a bad
// instance.
func (s *Store) Heartbeat(ctx context.Context, inst objections.Instance) error {
	if err := inst.CheckStorable(); err != nil {
		return err
	}
	return s.write(ctx, "write heartbeat", func(tx dbtx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO instances (`+instanceColumns+`) VALUES (?, ?, ?, ?, '')
			ON CONFLICT (id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), app = excluded.app`,
			inst.ID, inst.App, formatTime(inst.StartedAt), formatTime(inst.LastSeen)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM instances WHERE last_seen < ?`, formatTime(inst.LastSeen.Add(-objections.InstanceRetention)))
		return err
	})
}

// Instances lists the instances that wrote a heartbeat lately, by id.
func (s *Store) Instances(ctx context.Context) ([]objections.Instance, error) {
	return queryAll(ctx, s.q(), "list instances", scanInstance, `SELECT `+instanceColumns+` FROM instances ORDER BY id`)
}

// TakeOver claims for instance by the instances of app that stopped
// heart-beating before cutoff, when app has no live instance left and no
// other live instance claimed them; it returns the instances claimed (by
// now), none when app is alive or another live instance holds it. A
// claim is renewed by calling again. The write transaction makes two
// instances that ask at once take turns: the second sees the first's
// claim.
func (s *Store) TakeOver(ctx context.Context, app, by string, cutoff time.Time) ([]objections.Instance, error) {
	c := formatTime(cutoff)
	return writeOne(ctx, s, "take over instances", func(tx dbtx) ([]objections.Instance, error) {
		return queryAll(ctx, tx, "take over instances", scanInstance,
			`UPDATE instances SET taken_by = ?
			WHERE app = ? AND last_seen < ?
			  AND NOT EXISTS (SELECT 1 FROM instances l WHERE l.app = ? AND l.last_seen >= ?)
			  AND (taken_by IN ('', ?) OR taken_by NOT IN (SELECT id FROM instances WHERE last_seen >= ?))
			RETURNING `+instanceColumns, by, app, c, app, c, by, c)
	})
}
