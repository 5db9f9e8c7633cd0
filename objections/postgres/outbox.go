package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// The webhook outbox (migration 005): a trigger writes a row per active
// target in the transaction of every objection and void; these methods
// hand the rows out to the relay in objections/httpapi.

// SetWebhookTargets makes urls the active webhook targets: new ones are
// added, others are deactivated (their undelivered rows wait until they are
// active again). Objections recorded from now on get a delivery for each.
func (s *Store) SetWebhookTargets(ctx context.Context, urls []string, now time.Time) error {
	if urls == nil {
		urls = []string{}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE webhook_targets SET active = (url = ANY($1))`, urls); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhook_targets (url, active, added_at)
			SELECT u, true, $2 FROM unnest($1::text[]) u
			ON CONFLICT (url) DO UPDATE SET active = true`, urls, utc(now))
		return err
	})
	return translate("set webhook targets", err)
}

// claimSQL leases up to $3 deliveries of the targets $1 that are due at $2:
// for each key only its oldest undelivered row, and only when no lease on
// it is running. SKIP LOCKED lets several instances claim at once without
// waiting for each other; the NOT EXISTS keeps the order per key whoever
// claims, because a row is not a head while an older one of its key is
// undelivered, leased or not.
const claimSQL = `WITH heads AS (
	SELECT o.id FROM outbox o
	WHERE o.target = ANY($1) AND o.delivered_at IS NULL AND o.next_at <= $2
		AND (o.lease_until IS NULL OR o.lease_until <= $2)
		AND NOT EXISTS (SELECT 1 FROM outbox p
			WHERE p.target = o.target AND p.key = o.key AND p.delivered_at IS NULL AND p.id < o.id)
	ORDER BY o.id
	LIMIT $3
	FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox o SET lease_id = $4, lease_until = $5
FROM heads WHERE o.id = heads.id
RETURNING o.id, o.target, o.event_id, o.kind, o.objection_id, o.org, o.key, o.at, o.attempts, o.lease_id`

// ClaimDeliveries leases up to limit due deliveries for targets, oldest
// first, at most one per target and key, for lease. Deliver each, then
// AckDelivery or RetryDelivery it; a lease that runs out hands the
// delivery to the next claim (delivery is at least once).
func (s *Store) ClaimDeliveries(ctx context.Context, targets []string, now time.Time, lease time.Duration, limit int) ([]objections.Delivery, error) {
	if len(targets) == 0 || limit <= 0 {
		return nil, nil
	}
	now = utc(now)
	list, err := queryAll(ctx, s.pool, "claim deliveries", scanDelivery, claimSQL, targets, now, limit, objections.NewID(now), now.Add(lease))
	if err != nil {
		return nil, err
	}
	// RETURNING does not keep the subquery's order.
	slices.SortFunc(list, func(a, b objections.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return list, nil
}

// scanDelivery is the pgx.RowToFunc of claimSQL.
func scanDelivery(row pgx.CollectableRow) (objections.Delivery, error) {
	var (
		d    objections.Delivery
		kind string
	)
	err := row.Scan(&d.ID, &d.Target, &d.EventID, &kind, &d.ObjectionID, &d.Org, &d.Key, &d.At, &d.Attempts, &d.Lease)
	d.Kind = objections.EventKind(kind)
	return d, err
}

// AckDelivery marks a delivery as delivered at now, whichever claim holds
// it: a receiver that acknowledged has the event.
func (s *Store) AckDelivery(ctx context.Context, id int64, now time.Time) error {
	return s.exec(ctx, "acknowledge delivery", `UPDATE outbox SET delivered_at = $2, attempts = attempts + 1,
			lease_id = NULL, lease_until = NULL, last_error = ''
		WHERE id = $1 AND delivered_at IS NULL`, id, utc(now))
}

// RetryDelivery records a failed attempt of d and makes it due again at
// next. It changes nothing when d's lease was lost to another claim.
func (s *Store) RetryDelivery(ctx context.Context, d objections.Delivery, next time.Time, lastError string) error {
	return s.exec(ctx, "retry delivery", `UPDATE outbox SET attempts = attempts + 1, next_at = $3, last_error = $4,
			lease_id = NULL, lease_until = NULL
		WHERE id = $1 AND lease_id = $2 AND delivered_at IS NULL`,
		d.ID, d.Lease, utc(next), objections.ClipDeliveryError(lastError))
}

// OutboxStats counts the undelivered deliveries of targets and finds the
// oldest one's event time.
func (s *Store) OutboxStats(ctx context.Context, targets []string) (objections.OutboxStats, error) {
	var (
		st     objections.OutboxStats
		oldest *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(at) FROM outbox
		WHERE target = ANY($1) AND delivered_at IS NULL`, targets).Scan(&st.Pending, &oldest)
	if err != nil {
		return st, translate("read outbox stats", err)
	}
	if oldest != nil {
		st.Oldest = *oldest
	}
	return st, nil
}

// PruneDeliveries deletes deliveries acknowledged before before, at most
// limit at a time, and returns how many it deleted.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.execCount(ctx, "prune deliveries", `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox WHERE delivered_at < $1 ORDER BY delivered_at LIMIT $2)`, utc(before), limit)
}
