package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const instanceColumns = `id, app, started_at, last_seen, taken_by`

func scanInstance(row pgx.CollectableRow) (objections.Instance, error) {
	var i objections.Instance
	err := row.Scan(&i.ID, &i.App, &i.StartedAt, &i.LastSeen, &i.TakenBy)
	return i, err
}

// Heartbeat writes the instance's row: created the first time, its
// last_seen moved on after. Rows of instances gone for longer than
// objections.InstanceRetention are removed on the way. EINVALID for a bad
// instance; EUNAVAILABLE when the database cannot be reached.
func (s *Store) Heartbeat(ctx context.Context, inst objections.Instance) error {
	if err := inst.CheckStorable(); err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO instances (`+instanceColumns+`) VALUES ($1, $2, $3, $4, '')
		ON CONFLICT (id) DO UPDATE SET last_seen = greatest(instances.last_seen, excluded.last_seen), app = excluded.app`,
		inst.ID, inst.App, inst.StartedAt, inst.LastSeen)
	b.Queue(`DELETE FROM instances WHERE last_seen < $1`, inst.LastSeen.Add(-objections.InstanceRetention))
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return translate("write heartbeat", err)
	}
	return nil
}

// Instances lists the instances that wrote a heartbeat lately, by id.
func (s *Store) Instances(ctx context.Context) ([]objections.Instance, error) {
	return queryAll(ctx, s.pool, "list instances", scanInstance, `SELECT `+instanceColumns+` FROM instances ORDER BY id`)
}

// TakeOver claims for instance by the instances of app that stopped
// heart-beating before cutoff, when app has no live instance left and no
// other live instance claimed them; it returns the instances claimed (by
// now), none when app is alive or another live instance holds it. A
// claim is renewed by calling again. Two instances that ask at once do
// not both get it: the rows are locked by the first update, and the
// second sees the first's claim.
func (s *Store) TakeOver(ctx context.Context, app, by string, cutoff time.Time) ([]objections.Instance, error) {
	return queryAll(ctx, s.pool, "take over instances", scanInstance,
		`UPDATE instances SET taken_by = $2
		WHERE app = $1 AND last_seen < $3
		  AND NOT EXISTS (SELECT 1 FROM instances l WHERE l.app = $1 AND l.last_seen >= $3)
		  AND (taken_by IN ('', $2) OR taken_by NOT IN (SELECT id FROM instances WHERE last_seen >= $3))
		RETURNING `+instanceColumns, app, by, utc(cutoff))
}
